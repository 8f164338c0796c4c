"""The window opens inside the screen it is on: on a room laptop's screen (1366x768, 1280x720)
it takes the whole free area, maximised, and never the 1280x800 that ran off a 768-pixel
screen; on a large screen it opens at 1280x800. The real window in a child process, on Qt's
offscreen platform given a screen of that size, and on X11 (xcb) under an Xvfb of that size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.real_tools import require_tool

import kapsession

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
REPO_ROOT = Path(kapsession.__file__).resolve().parents[1]
SCREENS = {"1366x768": (1366, 768), "1280x720": (1280, 720), "1920x1080": (1920, 1080)}
LAPTOPS = ("1366x768", "1280x720")


def opened_window(platform: str, size: tuple[int, int], folder: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    width, height = size
    command = [sys.executable, str(HERE / "window_size_child.py")]
    if platform == "offscreen":
        screen = {"name": "laptop", "x": 0, "y": 0, "width": width, "height": height}
        config = folder / "screen.json"
        config.write_text(json.dumps({"screens": [{**screen, "logicalDpi": 96}]}))
        env["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    else:
        require_tool("Xvfb", "xvfb")
        xvfb_run = require_tool("xvfb-run", "xvfb")
        env["QT_QPA_PLATFORM"] = "xcb"
        command = [xvfb_run, "-a", "-s", f"-screen 0 {width}x{height}x24", *command]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    opened: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    assert opened["platform"] == platform
    return opened


@pytest.mark.parametrize("platform", ["offscreen", "xcb"])
@pytest.mark.parametrize("screen", SCREENS)
def test_the_window_opens_inside_its_screen(tmp_path: Path, platform: str, screen: str) -> None:
    # Given a screen of this size
    # When the window opens on it
    opened = opened_window(platform, SCREENS[screen], tmp_path)
    # Then the window with its frame lies inside the screen's free area
    left, top, width, height = opened["available"]  # type: ignore[misc]
    x, y, frame_width, frame_height = opened["frame"]  # type: ignore[misc]
    assert left <= x and top <= y, opened
    assert x + frame_width <= left + width and y + frame_height <= top + height, opened
    if screen in LAPTOPS:
        # And on a laptop it takes all of it (less a frame), maximised
        assert opened["maximised"] is True, opened
        assert (frame_width, frame_height) == (width, height), opened
    else:
        # And on a large screen it opens at the size the screens are laid out for
        assert (opened["size"], opened["maximised"]) == ([1280, 800], False), opened
