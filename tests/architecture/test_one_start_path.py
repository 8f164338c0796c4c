"""One consent-checked start (issue 17): product code starts a session only through
`SessionService.start_dosing_session`, which refuses a dosing session while a client has no
current KAP treatment consent unless the prescriber overrides. Its plain `start_session` is
called from that wrapper alone (the tests call it directly, with the consent they need), so no
screen, command or demo path can skip the check."""

from __future__ import annotations

import ast
from pathlib import Path

import kapsession

PACKAGE = Path(kapsession.__file__).parent


def callers(method: str) -> list[str]:
    """Where product code calls `<something other than self>.<method>(...)`, as
    "module:function" (a class calling its own method of that name is not the service)."""
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
                    and node.func.attr == method
                    and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "self")
                ):
                    module = path.relative_to(PACKAGE).with_suffix("").as_posix()
                    found.append(f"{module}:{function.name}")
    return sorted(set(found))


def test_no_product_code_starts_a_session_without_the_consent_check() -> None:
    # Given the product's code, When every call of a service's plain start_session is found
    plain = callers("start_session")
    # Then there is none: the screens and the demo all start through the consent check
    assert plain == [], plain


def test_the_screens_and_the_demo_start_through_the_consent_check() -> None:
    # When every call of start_dosing_session is found
    checked = callers("start_dosing_session")
    # Then the new-session dialog (and "next in course", which opens it) and the demo use it
    assert checked == [
        "services/demo:_course_talk",
        "services/demo:_play_session",
        "ui/start_controller:start_session",
    ], checked
