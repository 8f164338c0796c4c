"""The real app on Qt's X11 platform (xcb) under a private Xvfb: the main window, a dialog and the
lock of a second instance, seen from outside the app, the way a desktop sees them.

Every other GUI test runs Qt offscreen, so nothing else starts the xcb plugin. Here the app is
`python -m kapsession` with QT_QPA_PLATFORM=xcb (no fallback to offscreen) and DISPLAY set to an
Xvfb of the test's own. The X server is asked what is on it (xwininfo, xprop from x11-utils; a
screenshot with ImageMagick's import); keys are real X key events (xdotool, through XTEST). Xvfb
runs no window manager, so the test does the two things one would: it gives a window the focus
(`xdotool windowfocus`) and asks a window to close (a WM_DELETE_WINDOW message, as a close button
does).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from support.real_tools import require_tool

import kapsession

pytestmark = pytest.mark.slow

PLATFORM = "xcb"
REPO_ROOT = Path(kapsession.__file__).resolve().parents[1]
WAIT_S = 60.0  # a guard against a hung process on a loaded machine, never a timing assertion
MAIN_TITLE = "kapsession — TRAINING"  # training mode: no sign-in covers the window (issue 18)
CLIENT_DIALOG_TITLE = "New client"
ALREADY_OPEN_TITLE = "kapsession is already open"

T = TypeVar("T")


def wait_for(condition: Callable[[], T | None], what: str, *, timeout: float = WAIT_S) -> T:
    """Poll until `condition` gives something other than None/False; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


# --- the X server -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Xvfb:
    display: str
    proc: subprocess.Popen[bytes]

    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display}

    def tool(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), env=self.env(), capture_output=True, text=True, timeout=WAIT_S
        )


def read_display_number(pipe: int) -> str:
    """Xvfb writes its display number and a newline to -displayfd once it accepts connections.
    The whole line is read: closing the pipe early would end Xvfb with a broken pipe."""
    got = b""
    deadline = time.monotonic() + WAIT_S
    while not got.endswith(b"\n"):
        ready, _, _ = select.select([pipe], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(pipe, 64) if ready else b""
        if not chunk:
            break
        got += chunk
    os.close(pipe)
    return got.decode().strip()


@pytest.fixture(scope="module")
def xvfb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Xvfb]:
    """A private Xvfb on a display number it picks itself (-displayfd), stopped at the end."""
    server = require_tool("Xvfb", "xvfb")
    for tool, package in (
        ("xwininfo", "x11-utils"),
        ("xprop", "x11-utils"),
        ("xdotool", "xdotool"),
        ("import", "imagemagick"),
    ):
        require_tool(tool, package)
    log = (tmp_path_factory.mktemp("xvfb") / "xvfb.log").open("wb")
    read_end, write_end = os.pipe()
    # -noreset: the server stays as it is when one app ends and the next has not yet connected
    command = [server, "-displayfd", str(write_end), "-screen", "0", "1366x768x24", "-noreset"]
    proc = subprocess.Popen(
        [*command, "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    os.close(write_end)
    try:
        number = read_display_number(read_end)
        assert number.isdigit(), f"Xvfb did not report a display (exit {proc.poll()})"
        display = Xvfb(f":{number}", proc)
        assert display.tool("xwininfo", "-root").returncode == 0
        yield display
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@dataclass(frozen=True)
class XWindow:
    id: int
    title: str
    pid: int | None
    viewable: bool
    transient_for: int | None


TOP_LEVEL = re.compile(r"^\s+(0x[0-9a-f]+) \"(.*)\": \(")


def top_level_windows(x: Xvfb) -> list[XWindow]:
    """The named children of the root window, with what the X server knows of each. A window
    can be destroyed between the listing and the questions: it is then left out."""
    listing = x.tool("xwininfo", "-root", "-children")
    assert listing.returncode == 0, listing.stderr
    windows = []
    for line in listing.stdout.splitlines():
        match = TOP_LEVEL.match(line)
        if match is None:
            continue
        window_id, title = match.group(1), match.group(2)
        info = x.tool("xwininfo", "-id", window_id)
        props = x.tool("xprop", "-id", window_id, "_NET_WM_PID", "WM_TRANSIENT_FOR")
        if info.returncode != 0 or props.returncode != 0:
            continue
        pid = re.search(r"_NET_WM_PID\(CARDINAL\) = (\d+)", props.stdout)
        owner = re.search(r"WM_TRANSIENT_FOR\(WINDOW\): window id # (0x[0-9a-f]+)", props.stdout)
        windows.append(
            XWindow(
                id=int(window_id, 16),
                title=title,
                pid=int(pid.group(1)) if pid else None,
                viewable="Map State: IsViewable" in info.stdout,
                transient_for=int(owner.group(1), 16) if owner else None,
            )
        )
    return windows


def shown_window(x: Xvfb, app: App, title: str) -> XWindow | None:
    app.assert_running()
    for window in top_level_windows(x):
        if window.title == title and window.pid == app.proc.pid and window.viewable:
            return window
    return None


def colours_on_screen(x: Xvfb) -> int:
    """How many distinct colours a screenshot of the whole screen has (1: nothing drawn)."""
    shot = x.tool("import", "-window", "root", "-format", "%k", "info:-")
    assert shot.returncode == 0, shot.stderr
    return int(shot.stdout.strip())


def press(x: Xvfb, window: XWindow, key: str) -> None:
    """A real key press on `window`: the focus first (no window manager gives it), then XTEST."""
    focus = x.tool("xdotool", "windowfocus", "--sync", str(window.id))
    assert focus.returncode == 0, focus.stderr
    typed = x.tool("xdotool", "key", key)
    assert typed.returncode == 0, typed.stderr


class _ClientMessage(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _ClientMessage), ("pad", ctypes.c_long * 24)]


def ask_to_close(x: Xvfb, window: XWindow) -> None:
    """What a window manager sends when the close button is pressed: WM_DELETE_WINDOW."""
    xlib = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XInternAtom.restype = ctypes.c_ulong
    xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    xlib.XSendEvent.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_int,
        ctypes.c_long,
        ctypes.POINTER(_XEvent),
    ]
    xlib.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    connection = xlib.XOpenDisplay(x.display.encode())
    assert connection, f"cannot open the X display {x.display}"
    try:
        event = _XEvent()
        event.xclient.type = 33  # ClientMessage
        event.xclient.window = window.id
        event.xclient.message_type = xlib.XInternAtom(connection, b"WM_PROTOCOLS", 0)
        event.xclient.format = 32
        event.xclient.data[0] = xlib.XInternAtom(connection, b"WM_DELETE_WINDOW", 0)
        event.xclient.data[1] = 0  # CurrentTime
        assert xlib.XSendEvent(connection, window.id, 0, 0, ctypes.byref(event))
        xlib.XSync(connection, 0)
    finally:
        xlib.XCloseDisplay(connection)


# --- the app ------------------------------------------------------------------------------------


def app_env(x: Xvfb, **extra: str) -> dict[str, str]:
    """The X11 platform on the private display, this checkout importable, no KAPSESSION_* from
    outside."""
    env = {k: v for k, v in x.env().items() if not k.startswith("KAPSESSION_")}
    env.pop("WAYLAND_DISPLAY", None)
    env["QT_QPA_PLATFORM"] = PLATFORM
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    return {**env, **extra}


class App:
    """`python -m kapsession --data-dir DATA --training` on the X display (training mode: no
    sign-in, issue 18); its output goes to files."""

    def __init__(self, x: Xvfb, data_dir: Path, logs: Path, name: str, **env: str) -> None:
        self.stdout_path = logs / f"{name}.stdout"
        self.stderr_path = logs / f"{name}.stderr"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kapsession", "--data-dir", str(data_dir), "--training"],
                stdout=out,
                stderr=err,
                env=app_env(x, **env),
                cwd=logs,
            )

    def output(self) -> str:
        return (
            f"stdout: {self.stdout_path.read_text(errors='replace')}\n"
            f"stderr: {self.stderr_path.read_text(errors='replace')}"
        )

    def assert_running(self) -> None:
        code = self.proc.poll()
        assert code is None, f"the app ended with {code}\n{self.output()}"

    def wait(self) -> int:
        try:
            return self.proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the app did not end\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    path = tmp_path / "logs"
    path.mkdir()
    return path


def start_screen_ready(data_dir: Path) -> bool:
    log = data_dir / "logs" / "kapsession.log"
    return log.exists() and "start screen ready" in log.read_text(errors="replace")


@pytest.fixture
def first(xvfb: Xvfb, data_dir: Path, logs: Path) -> Iterator[App]:
    """The app started on the X display, with its main window shown and ready: the window
    comes first, then the app sets up its new database behind it, and says so in its log."""
    app = App(xvfb, data_dir, logs, "first")
    try:
        wait_for(lambda: shown_window(xvfb, app, MAIN_TITLE), "the main window on the X display")
        wait_for(lambda: start_screen_ready(data_dir), "the start screen ready (in the app's log)")
        yield app
    finally:
        app.stop()


def test_the_start_up_probe_reports_a_shown_window_on_x11(
    xvfb: Xvfb, data_dir: Path, logs: Path
) -> None:
    # Given the app on the X11 platform with the start-up probe
    app = App(xvfb, data_dir, logs, "probe", KAPSESSION_STARTUP_PROBE="shown")
    # When it has shown and painted its window
    code = app.wait()
    # Then it said so and ended by itself (its own word; the tests below ask the X server)
    assert code == 0, app.output()
    line = json.loads(app.stdout_path.read_text().strip().splitlines()[-1])
    assert line == {
        "probe": "shown",
        "shown": True,
        "screen": "start",
        "session": None,
        "title": MAIN_TITLE,
    }


def test_the_main_window_is_a_painted_window_on_the_x_display(xvfb: Xvfb, first: App) -> None:
    # Given the app running on the X display (the fixture waited for its window)
    # When the X server is asked for its top-level windows
    main = shown_window(xvfb, first, MAIN_TITLE)
    # Then the main window is there, mapped, not a dialog, and something is drawn on the screen
    assert main is not None
    assert main.transient_for is None
    assert colours_on_screen(xvfb) > 1


def test_ctrl_n_opens_the_new_client_dialog_as_its_own_x_window(xvfb: Xvfb, first: App) -> None:
    # Given the main window on the start screen, with the keyboard focus
    main = shown_window(xvfb, first, MAIN_TITLE)
    assert main is not None
    # When Ctrl+N is pressed on the X display
    press(xvfb, main, "ctrl+n")
    # Then the new-client dialog is a top-level X window of its own, owned by the main window
    dialog = wait_for(
        lambda: shown_window(xvfb, first, CLIENT_DIALOG_TITLE), "the new-client dialog"
    )
    assert dialog.id != main.id
    assert dialog.transient_for == main.id
    # And Escape closes it, leaving the main window
    press(xvfb, dialog, "Escape")
    wait_for(lambda: shown_window(xvfb, first, CLIENT_DIALOG_TITLE) is None, "the dialog to close")
    assert shown_window(xvfb, first, MAIN_TITLE) is not None


def test_a_second_instance_on_the_same_data_refuses_with_a_message_window(
    xvfb: Xvfb, first: App, data_dir: Path, logs: Path
) -> None:
    # Given the app running on a data folder
    main = shown_window(xvfb, first, MAIN_TITLE)
    assert main is not None
    # When a second app is started on the same folder
    second = App(xvfb, data_dir, logs, "second")
    try:
        # Then it shows the "already open" message as an X window, and no main window of its own
        message = wait_for(
            lambda: shown_window(xvfb, second, ALREADY_OPEN_TITLE), "the 'already open' message"
        )
        assert shown_window(xvfb, second, MAIN_TITLE) is None
        # And when the message is acknowledged with Enter, the second app ends with status 1
        press(xvfb, message, "Return")
        assert second.wait() == 1, second.output()
    finally:
        second.stop()
    # And the first app keeps running with its window shown
    first.assert_running()
    assert shown_window(xvfb, first, MAIN_TITLE) == main


def test_closing_the_main_window_ends_the_app_and_frees_the_data_folder(
    xvfb: Xvfb, first: App, data_dir: Path, logs: Path
) -> None:
    # Given the app running on a data folder, its window asking to be told of a close
    main = shown_window(xvfb, first, MAIN_TITLE)
    assert main is not None
    protocols = xvfb.tool("xprop", "-id", str(main.id), "WM_PROTOCOLS")
    assert "WM_DELETE_WINDOW" in protocols.stdout
    # When the window is closed as a desktop's close button does
    ask_to_close(xvfb, main)
    # Then the app ends normally and leaves no window behind
    assert first.wait() == 0, first.output()
    assert not [w for w in top_level_windows(xvfb) if w.pid == first.proc.pid and w.viewable]
    # And the data folder opens again at once (the lock was released, not left stale)
    again = App(xvfb, data_dir, logs, "again", KAPSESSION_STARTUP_PROBE="shown")
    assert again.wait() == 0, again.output()
    assert json.loads(again.stdout_path.read_text().strip().splitlines()[-1])["shown"] is True
