"""tests/conftest.py: under CI=true a skip or xfail fails unless its reason is on the allow-list.

Each case runs the real conftest in a fresh pytest process (pytester), once with CI=true and once
without, over a small suite holding every kind of skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")

SKIPPING_SUITE = """
import pytest

def test_passes():
    pass

def test_bare_skip():
    pytest.skip("x")

@pytest.mark.skipif(True, reason="no sound card here")
def test_skipif_mark():
    pass

def test_another_operating_system():
    pytest.skip("only on Windows: drive letters are local paths there")

@pytest.mark.xfail(reason="a known bug")
def test_expected_failure():
    assert False
"""

SKIPPED_MODULE = """
import pytest

pytest.importorskip("kapsession_no_such_module")

def test_never_collected():
    pass
"""


@pytest.fixture
def skipping_suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(test_skipping=SKIPPING_SUITE, test_skipped_module=SKIPPED_MODULE)
    return pytester


def test_without_ci_every_skip_stays_a_skip(
    skipping_suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a suite with every kind of skip, run outside CI
    monkeypatch.delenv("CI", raising=False)
    # When it runs
    result = skipping_suite.runpytest_subprocess("-p", "no:randomly")
    # Then the skips and the expected failure are reported as such and the run passes
    result.assert_outcomes(passed=1, skipped=4, xfailed=1)
    assert result.ret == pytest.ExitCode.OK


def test_under_ci_a_skip_not_on_the_allow_list_fails(
    skipping_suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the same suite, run under CI=true
    monkeypatch.setenv("CI", "true")
    # When it runs (past the collection error, to see every case in one run)
    result = skipping_suite.runpytest_subprocess(
        "-p", "no:randomly", "--continue-on-collection-errors"
    )
    # Then only the other operating system's test stays skipped; a skip in the test, the
    # xfail (both failures), the skipif mark (at set-up) and the module skip (at collection)
    # all fail the run, each saying why
    result.assert_outcomes(passed=1, skipped=1, failed=2, errors=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines_random(
        [
            "*skipped under CI=true at *test_skipping.py:*: x",
            "*skipped under CI=true*: no sound card here",
            "*skipped under CI=true*: xfail: a known bug",
            "*skipped under CI=true*: could not import 'kapsession_no_such_module'*",
        ]
    )


def test_under_ci_a_skip_fails_in_parallel_workers_too(
    skipping_suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the same suite, run under CI=true in two worker processes, as `make test` runs
    monkeypatch.setenv("CI", "true")
    # When it runs
    result = skipping_suite.runpytest_subprocess("-p", "no:randomly", "-n", "2")
    # Then the run fails: the module skipped at collection fails it as a collection error
    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines_random(
        ["*skipped under CI=true*: could not import 'kapsession_no_such_module'*"]
    )
    # And without that module, the skips inside the tests fail in the workers, as in one process
    (skipping_suite.path / "test_skipped_module.py").unlink()
    result = skipping_suite.runpytest_subprocess("-p", "no:randomly", "-n", "2")
    result.assert_outcomes(passed=1, skipped=1, failed=2, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines_random(
        [
            "*skipped under CI=true at *test_skipping.py:*: x",
            "*skipped under CI=true*: no sound card here",
            "*skipped under CI=true*: xfail: a known bug",
        ]
    )
