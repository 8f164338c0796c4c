"""Layer rules import-linter cannot express: only `kapsession.ui` may import QtWidgets/QtGui,
except that `kapsession.export` may use QtGui to paint PDFs (QPdfWriter, QTextDocument,
QPainter, QImage) — never QtWidgets; and `kapsession.records` imports the standard library and
`kapsession.domain` only (import-linter can forbid named packages, not "anything else").

(import-linter checks the rest: run by `make lint` / `make test`.)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "kapsession"
GUI_MODULES = ("PySide6.QtWidgets", "PySide6.QtGui")
# Packages allowed some GUI modules, with what stays forbidden to them.
FORBIDDEN_BY_PACKAGE = {"export": ("PySide6.QtWidgets",)}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def forbidden_gui_imports(path: Path, package: Path = PACKAGE) -> set[str]:
    """The GUI imports a module outside kapsession.ui may not make."""
    top = path.relative_to(package).parts[0]
    forbidden = FORBIDDEN_BY_PACKAGE.get(top, GUI_MODULES)
    return {name for name in imported_modules(path) if name.startswith(forbidden)}


def non_ui_sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "ui" not in p.relative_to(PACKAGE).parts[:1])


@pytest.mark.parametrize("path", non_ui_sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_ui_imports_qt_widgets_or_gui(path: Path) -> None:
    # Given a module outside kapsession.ui, when its imports are read, then none is a GUI
    # module it may not use (export may paint with QtGui, nothing else outside the UI may).
    offending = forbidden_gui_imports(path)
    # The GUI entry (cli.py) may import kapsession.ui lazily to open the window: that is allowed,
    # it is the only way into the UI; direct QtWidgets/QtGui imports are not.
    assert not offending, (
        f"{path.name} imports {sorted(offending)}; move that code to kapsession/ui"
    )


def test_the_rule_detects_a_gui_import(tmp_path: Path) -> None:
    # Given a module that imports QtWidgets, then the scan reports it (the check can fail).
    module = tmp_path / "bad.py"
    module.write_text("from PySide6.QtWidgets import QLabel\n", encoding="utf-8")
    assert "PySide6.QtWidgets" in imported_modules(module)


@pytest.mark.parametrize(
    ("package", "source", "reported"),
    [
        ("export", "from PySide6.QtWidgets import QLabel\n", True),
        ("export", "import PySide6.QtWidgets\n", True),
        ("export", "from PySide6.QtGui import QPdfWriter, QTextDocument\n", False),
        ("services", "from PySide6.QtGui import QImage\n", True),
        ("storage", "from PySide6.QtWidgets import QLabel\n", True),
    ],
)
def test_export_may_paint_with_qtgui_but_never_use_widgets(
    tmp_path: Path, package: str, source: str, reported: bool
) -> None:
    # Given a module in a package of a copy of the tree that imports a GUI module
    root = tmp_path / "kapsession"
    module = root / package / "some_module.py"
    module.parent.mkdir(parents=True)
    module.write_text(source, encoding="utf-8")
    # When the rule reads it, then QtWidgets in export and any GUI module elsewhere is reported
    assert bool(forbidden_gui_imports(module, root)) is reported


def not_plain_imports(path: Path) -> set[str]:
    """What a records module imports beyond the standard library, domain and records."""
    own = ("kapsession.domain", "kapsession.records")
    return {
        name
        for name in imported_modules(path)
        if name.split(".")[0] not in sys.stdlib_module_names and not name.startswith(own)
    }


@pytest.mark.parametrize("path", sorted((PACKAGE / "records").rglob("*.py")), ids=lambda p: p.name)
def test_records_import_only_the_standard_library_and_domain(path: Path) -> None:
    # Given a module of kapsession.records, when its imports are read, then each is the
    # standard library, kapsession.domain or another records module
    assert not not_plain_imports(path), f"{path.name} imports {sorted(not_plain_imports(path))}"


@pytest.mark.parametrize(
    ("source", "reported"),
    [
        ("from kapsession.storage.models import Dose\n", True),
        ("import sqlalchemy\n", True),
        ("from argon2 import PasswordHasher\n", True),
        (
            "from dataclasses import dataclass\nfrom kapsession.domain.vitals import Reading\n",
            False,
        ),
    ],
)
def test_the_records_rule_detects_other_imports(
    tmp_path: Path, source: str, reported: bool
) -> None:
    # Given a module with these imports, then the records rule reports all but stdlib and domain
    module = tmp_path / "some_records.py"
    module.write_text(source, encoding="utf-8")
    assert bool(not_plain_imports(module)) is reported
