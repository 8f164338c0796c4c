"""Layer rules import-linter cannot express: only `kapsession.ui` may import QtWidgets/QtGui.

(import-linter checks the rest: run by `make lint` / `make test`.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "kapsession"
GUI_MODULES = ("PySide6.QtWidgets", "PySide6.QtGui")


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


def non_ui_sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "ui" not in p.relative_to(PACKAGE).parts[:1])


@pytest.mark.parametrize("path", non_ui_sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_ui_imports_qt_widgets_or_gui(path: Path) -> None:
    # Given a module outside kapsession.ui, when its imports are read, then none is a GUI module.
    offending = {name for name in imported_modules(path) if name.startswith(GUI_MODULES)}
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
