"""The rotating log file in the user log folder, and the crash hook that writes to it."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from kapsession.paths import make_private, make_private_dir

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(log_file: Path | None, *, verbose: bool = False) -> None:
    """Log to a rotating file (5 x 2 MB) and warnings to stderr."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler()
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    brief = _Formatter if verbose else _NoStackFormatter
    console.setFormatter(brief("%(levelname)s: %(message)s"))
    root.addHandler(console)
    if log_file is None:
        return
    try:
        make_private_dir(log_file.parent)
        handler = _LogFile(
            log_file,
            maxBytes=2_000_000,
            backupCount=5,
            encoding="utf-8",
            errors="backslashreplace",  # a file name that is not UTF-8, escaped: no error
        )
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot write the log file %s: %s", log_file, exc)
        return
    handler.setFormatter(_Formatter(LOG_FORMAT))
    root.addHandler(handler)


class _LogFile(logging.handlers.RotatingFileHandler):
    """The log file. When it cannot be written (a full disk) that is said once on stderr, in
    one line, and the app goes on without it: not logging's own traceback for every record."""

    _failed = False

    def _open(self):  # type: ignore[no-untyped-def]  # logging's own, untyped
        """The file, its user's alone whatever the umask (a rotated one keeps its mode)."""
        stream = super()._open()
        make_private(Path(self.baseFilename))
        return stream

    def handleError(self, record: logging.LogRecord) -> None:
        problem = sys.exc_info()[1]
        if not isinstance(problem, OSError):
            super().handleError(record)  # a mistake in a log call: logging's own report
            return
        if not self._failed:
            self._failed = True
            reason = problem.strerror or problem
            sys.stderr.write(f"WARNING: cannot write the log file {self.baseFilename}: {reason}\n")


class _Formatter(logging.Formatter):
    """A record as text any stream takes: what is not UTF-8 (a file name's stray bytes, given
    by Python as lone surrogates) escaped, never logging's own error report instead."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


class _NoStackFormatter(_Formatter):
    """One line per problem on the console; the stack goes to the log file only."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


ErrorPresenter = Callable[[str, str], None]
_presenter: ErrorPresenter | None = None


def set_error_presenter(presenter: ErrorPresenter | None) -> None:
    """The UI registers a function that shows (summary, details) calmly to the user."""
    global _presenter
    _presenter = presenter


def excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """Log any uncaught error with its stack, then let the UI say so calmly."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    logging.getLogger("kapsession").critical("unexpected error", exc_info=(kind, value, tb))
    if _presenter is not None:
        try:
            _presenter(str(value) or kind.__name__, f"{kind.__name__}: {value}")
        except Exception:  # the presenter must never take the app down with it
            logging.getLogger("kapsession").exception("error dialog failed")
    else:
        sys.__excepthook__(kind, value, tb)


def install_excepthook() -> None:
    sys.excepthook = excepthook
