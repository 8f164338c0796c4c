"""Settings for the whole suite: Hypothesis profiles, and no silent skips under CI=true.

Hypothesis profiles (chosen by CI=true, or `pytest --hypothesis-profile=NAME`):

- "dev" (the default): random examples, failing ones kept in .hypothesis/ and replayed first.
- "ci": the same examples on every run (derandomize), no example database, and the blob to
  reproduce a failure printed in the log.

Neither has a per-example deadline: a deadline is a timing assertion, which this suite does not
make (a loaded two-core machine misses 200 ms for reasons that are not the code's); speed is
measured by benchmarks/. Both keep every health check. This "ci" profile replaces Hypothesis's
built-in one, which CI=true would otherwise load and which suppresses the too-slow check.

Test order is random (pytest-randomly, in the dev tools): the header says "Using
--randomly-seed=N"; pass that option to repeat an order, or `-p no:randomly` for file order.
`make test-isolated` runs each file alone. Hypothesis's examples do not depend on that seed.

Skips under CI=true: a skipped test must not leave CI green, because the usual cause is a
missing component (a server, a tool, a sound output) that CI must install. Under CI=true any
skip whose reason is not on ALLOWED_UNDER_CI is reported as a failure; so is any xfail (a rule
known broken but kept green; the suite has none). Locally skips stay skips.
(tests/support/real_tools.py `unavailable` already fails under CI; this catches every skip.)

Python's cycle collector runs on the GUI thread only, as in the app
(kapsession/ui/gui_thread_gc.py): pytest-qt's QApplication gets the same collector, and since
most tests never run an event loop, the collections that are due also run after each test, on
the main thread, and automatic collection is turned off again if a test turned it on.
"""

from __future__ import annotations

import gc
import os
import re
import sys
from collections.abc import Generator

import pytest
from hypothesis import is_hypothesis_test, settings
from hypothesis import strategies as st

pytest_plugins = ["pytester"]

IN_CI = os.environ.get("CI", "").lower() == "true"

# Both start from Hypothesis's own defaults, not from whatever profile its import loaded.
_DEFAULTS = settings.get_profile("default")
settings.register_profile("dev", _DEFAULTS, deadline=None)
settings.register_profile(
    "ci", _DEFAULTS, deadline=None, derandomize=True, database=None, print_blob=True
)
settings.load_profile("ci" if IN_CI else "dev")


# A skip reason allowed under CI=true must match one of these (re.match, from the start).
# Keep this list short: each entry is a reason CI can never remove by installing something.
ALLOWED_UNDER_CI = (
    # The test is about another operating system (CI runs on Debian).
    re.compile(r"only on (Windows|macOS)\b"),
)


@pytest.fixture(scope="session", autouse=True)
def _hypothesis_unicode_tables(request: pytest.FixtureRequest) -> None:
    """Build Hypothesis's Unicode tables before the first property test, not during it.

    The first text strategy of a fresh checkout builds a table of every code point and its
    category (about 2 s, then cached in .hypothesis/). Built during a test's first examples it
    counts as data generation and fails the too-slow health check, which measures generation.
    """
    if any(is_hypothesis_test(getattr(item, "obj", None)) for item in request.session.items):
        st.text().validate()


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    if hasattr(report, "wasxfail"):
        return f"xfail: {report.wasxfail}".rstrip(": ")
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr)


def _refuse_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not (IN_CI and report.skipped):
        return
    reason = _skip_reason(report)
    if any(allowed.match(reason) for allowed in ALLOWED_UNDER_CI):
        return
    where = ""
    if isinstance(report.longrepr, tuple):
        where = f" at {report.longrepr[0]}:{report.longrepr[1]}"
    if hasattr(report, "wasxfail"):
        del report.wasxfail  # else it is reported as an unexpected pass
    report.outcome = "failed"
    report.longrepr = (
        f"skipped under CI=true{where}: {reason}\n"
        "Under CI a skip is a failure: install or start what the test needs, or, if CI can "
        "never run it, add its reason to ALLOWED_UNDER_CI in tests/conftest.py."
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _refuse_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    _refuse_skip(report)
    return report


@pytest.fixture(scope="session")
def qapp(qapp: object) -> object:
    """pytest-qt's QApplication, with the app's cycle collector on the GUI thread."""
    from kapsession.ui.gui_thread_gc import collect_on_gui_thread

    collect_on_gui_thread(qapp)  # type: ignore[arg-type]
    return qapp


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """The cycle collections due, on the main thread (see the module's docstring)."""
    if "kapsession.ui.gui_thread_gc" not in sys.modules:
        return
    from PySide6.QtWidgets import QApplication

    from kapsession.ui.gui_thread_gc import GuiThreadCollector

    app = QApplication.instance()
    collector = app.findChild(GuiThreadCollector) if app is not None else None
    if isinstance(collector, GuiThreadCollector):
        # A test that ran a command in-process (`cli.run` turns Python's own collection back
        # on, as a command started on its own should) must not leave it on here, where the
        # GUI's collector is in charge: the next test's background thread would collect.
        gc.disable()
        collector.collect_due()
