"""No test module imports from `conftest` when it runs. Every test folder has a conftest.py,
all imported under the one name `conftest`, so which of them `from conftest import X` finds
depends on which folders were collected first: a test that passes alone fails in the whole
run. Types for annotations may come from it under `if TYPE_CHECKING:`; values go in
tests/support/."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def runtime_conftest_imports(source: str) -> list[int]:
    """Line numbers of `from conftest import …` / `import conftest` run when the module runs
    (anywhere but inside an `if TYPE_CHECKING:` block)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            node.body = []
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.ImportFrom) and node.module == "conftest")
        or (isinstance(node, ast.Import) and any(a.name == "conftest" for a in node.names))
    )


def test_no_test_module_imports_from_conftest_at_run_time() -> None:
    offenders = {
        str(path.relative_to(TESTS)): lines
        for path in sorted(TESTS.rglob("*.py"))
        if path.name != "conftest.py"
        and (lines := runtime_conftest_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "import these under `if TYPE_CHECKING:`, or move them to tests/support/"


def test_an_import_outside_type_checking_is_found_and_one_inside_is_not() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from conftest import NOW\n"
        "if TYPE_CHECKING:\n"
        "    from conftest import DemoData\n"
        "def f():\n"
        "    import conftest\n"
    )
    assert runtime_conftest_imports(source) == [2, 6]
