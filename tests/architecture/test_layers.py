"""Layer rules import-linter cannot express: only `kapsession.ui` may import QtWidgets/QtGui,
except that `kapsession.export` may use QtGui to paint PDFs (QPdfWriter, QTextDocument,
QPainter, QImage) — never QtWidgets.

(import-linter checks the rest: run by `make lint` / `make test`.)
"""

from __future__ import annotations

import ast
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
