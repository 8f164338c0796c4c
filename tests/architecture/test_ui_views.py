"""Every module of kapsession.ui is either a view, held to the import-linter contract "Views
hold no services" (pyproject.toml), or one of the controllers and start-up modules named here,
which may call the services. A new module is classified when it is added, so no view escapes
the contract by being left off its list."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "kapsession" / "ui"
CONTRACT_PREFIX = "Views hold no services"
# The modules that may reach the services: the controllers, the live screen's presenter, the
# composer and the start-up that opens the data.
CONTROLLERS = {
    "__init__",
    "access_controller",
    "adverse_controller",
    "app",
    "app_controller",
    "backup_notice",
    "client_questionnaire_controller",
    "corrections_controller",
    "course_controller",
    "course_summary_controller",
    "export_controller",
    "live_presenter",
    "live_profile_controller",
    "messages",
    "music_controller",
    "notes_controller",
    "nurse_controller",
    "session_note_controller",
    "start_controller",
    "startup",
    "startup_probe",
    "team_controller",
}


def view_contract_modules(pyproject: Path = ROOT / "pyproject.toml") -> set[str]:
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    (contract,) = [
        c
        for c in config["tool"]["importlinter"]["contracts"]
        if c["name"].startswith(CONTRACT_PREFIX)
    ]
    return {name.removeprefix("kapsession.ui.") for name in contract["source_modules"]}


def unclassified(modules: set[str], views: set[str]) -> set[str]:
    return modules - views - CONTROLLERS


def test_every_ui_module_is_a_view_of_the_contract_or_a_named_controller() -> None:
    # Given the modules of kapsession/ui and the views the contract lists
    modules = {path.stem for path in UI.glob("*.py")}
    views = view_contract_modules()
    # Then each is one or the other, not both, and the contract names no missing module
    assert not unclassified(modules, views), "add it to the contract's views or CONTROLLERS"
    assert not views & CONTROLLERS
    assert views <= modules


def test_a_new_module_left_off_both_lists_is_reported() -> None:
    # Given a module that is neither a listed view nor a controller, then it is reported
    assert unclassified({"new_panel", "theme"}, {"theme"}) == {"new_panel"}
