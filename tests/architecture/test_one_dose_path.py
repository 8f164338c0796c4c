"""One checked dose path (issue 16): a dose is written only by `CheckinService.record_dose`,
which checks it against the order, the protocol's limits, the hold-dose rule and the booster
rules; no other product code writes a dose row (`EntryRepository.add_dose`), so no path skips
the checks (the demo and the tests record doses the same way)."""

from __future__ import annotations

import ast
from pathlib import Path

import kapsession

PACKAGE = Path(kapsession.__file__).parent


def dose_writers() -> list[str]:
    """Where product code calls `add_dose`, as "module:function"."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "add_dose"
                ):
                    module = path.relative_to(PACKAGE).with_suffix("").as_posix()
                    found.append(f"{module}:{function.name}")
    return sorted(set(found))


def test_a_dose_is_written_only_by_the_checked_save() -> None:
    # Given the product's code, When every call that writes a dose row is found
    writers = dose_writers()
    # Then the checked save of the nurse's use cases is the only one
    assert writers == ["services/checkins:record_dose"], writers
