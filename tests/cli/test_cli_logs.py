"""The log file and the crash hook: the stack goes to the file, the person gets a calm message."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kapsession import logs


@pytest.fixture
def start_logging(tmp_path: Path) -> Iterator[Callable[[], Path]]:
    """`start_logging()` sets logging up as the app does, into tmp_path, and returns the file.

    Called in the test itself, so the console handler writes to the test's captured stderr.
    The root logger and the presenter are restored afterwards.
    """
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    path = tmp_path / "logs" / "kapsession.log"

    def start() -> Path:
        logs.setup_logging(path)
        return path

    try:
        yield start
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        logs.set_error_presenter(None)


def raised(error: BaseException):
    """The (kind, value, traceback) of `error` really raised, as the hook receives it."""

    def fail_in_the_timer_slot() -> None:
        raise error

    try:
        fail_in_the_timer_slot()
    except BaseException:
        return sys.exc_info()
    raise AssertionError("not raised")


def test_an_uncaught_error_is_logged_with_its_stack_and_shown_calmly(
    start_logging: Callable[[], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    log_file = start_logging()
    # Given the UI's error presenter
    shown: list[tuple[str, str]] = []
    logs.set_error_presenter(lambda summary, details: shown.append((summary, details)))
    # When an error escapes
    logs.excepthook(*raised(ValueError("the vitals chart could not be drawn")))
    # Then its stack is in the log file
    text = log_file.read_text(encoding="utf-8")
    assert "CRITICAL kapsession: unexpected error" in text
    assert "Traceback (most recent call last)" in text
    assert "in fail_in_the_timer_slot" in text
    assert "ValueError: the vitals chart could not be drawn" in text
    # ... the person is shown the message, with the details behind it
    assert shown == [
        ("the vitals chart could not be drawn", "ValueError: the vitals chart could not be drawn")
    ]
    # ... and the console gets one line, not the stack
    err = capsys.readouterr().err
    assert err == "CRITICAL: unexpected error\n"


def test_an_error_without_a_message_is_shown_by_its_kind(
    start_logging: Callable[[], Path],
) -> None:
    log_file = start_logging()
    shown: list[tuple[str, str]] = []
    logs.set_error_presenter(lambda summary, details: shown.append((summary, details)))
    logs.excepthook(*raised(KeyError()))
    assert shown == [("KeyError", "KeyError: ")]
    assert "KeyError" in log_file.read_text(encoding="utf-8")


def test_a_failing_presenter_is_logged_and_does_not_raise(
    start_logging: Callable[[], Path],
) -> None:
    log_file = start_logging()

    def broken(summary: str, details: str) -> None:
        raise RuntimeError("no display")

    logs.set_error_presenter(broken)
    logs.excepthook(*raised(OSError("disk gone")))
    text = log_file.read_text(encoding="utf-8")
    assert "OSError: disk gone" in text
    assert "error dialog failed" in text and "RuntimeError: no display" in text


def test_without_a_presenter_the_stack_is_also_printed(
    start_logging: Callable[[], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    log_file = start_logging()
    logs.set_error_presenter(None)
    logs.excepthook(*raised(ValueError("in a command")))
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "ValueError: in a command" in err
    assert "ValueError: in a command" in log_file.read_text(encoding="utf-8")


def test_ctrl_c_is_not_logged_as_a_crash(
    start_logging: Callable[[], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    log_file = start_logging()
    shown: list[tuple[str, str]] = []
    logs.set_error_presenter(lambda summary, details: shown.append((summary, details)))
    logs.excepthook(*raised(KeyboardInterrupt()))
    assert shown == []
    assert "unexpected error" not in log_file.read_text(encoding="utf-8")
    assert "KeyboardInterrupt" in capsys.readouterr().err


def test_install_sets_the_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    logs.install_excepthook()
    assert sys.excepthook is logs.excepthook


def test_an_unwritable_log_folder_only_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        logs.setup_logging(blocker / "logs" / "kapsession.log")
        err = capsys.readouterr().err
        assert err.startswith(f"WARNING: cannot write the log file {blocker / 'logs'}")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)


def test_a_file_name_that_is_not_utf8_is_logged_escaped_without_a_logging_error(
    start_logging: Callable[[], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given logging as the app sets it up, and a playlist whose file name on disk is not
    # UTF-8 (Python gives its bytes as lone surrogates)
    log_file = start_logging()
    name = Path("/music") / (b"ambient-\xff\xfe.m3u").decode("utf-8", "surrogateescape")
    # When a warning names it
    logging.getLogger("kapsession.test").warning("playlist %s cannot be read", name)
    # Then the log file has the line, the bytes escaped, and logging reported no error of its own
    written = log_file.read_text(encoding="utf-8")
    assert "playlist /music/ambient-\\udcff\\udcfe.m3u cannot be read" in written
    assert "Logging error" not in capsys.readouterr().err
