"""Ctrl+E and Ctrl+Tab in the live screen's text boxes on X11, where a Qt text box binds Ctrl+E
to "end of line" itself: the real app's window on Qt's xcb platform under a private Xvfb (a
child process, x11_keys_child.py), since every other UI test runs offscreen, which has no such
binding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.real_tools import require_tool

import kapsession

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]  # its child may take 300 s

HERE = Path(__file__).parent
REPO_ROOT = Path(kapsession.__file__).resolve().parents[1]
BOXES = ("marker", "note", "comment")  # a marker, a session note, a check-in's comment


def test_ctrl_keys_act_in_text_boxes_over_the_x11_bindings(tmp_path: Path) -> None:
    require_tool("Xvfb", "xvfb")
    xvfb_run = require_tool("xvfb-run", "xvfb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "tests")])
    env["QT_QPA_PLATFORM"] = "xcb"
    # Given the live screen on X11, where Ctrl+E is a text box's "end of line"
    # When Ctrl+E, then Ctrl+Tab, is pressed in each of its text boxes
    result = subprocess.run(
        [xvfb_run, "-a", "-s", "-screen 0 1366x768x24", sys.executable,
         str(HERE / "x11_keys_child.py"), str(tmp_path / "data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert (seen["platform"], seen["ctrl_e_is_end_of_line"]) == ("xcb", True)
    # Then Ctrl+E asks to end the session, and Ctrl+Tab moves to the next tab, from each box;
    # what was typed there stays as it was
    for box in BOXES:
        keys = seen["boxes"][box]
        assert keys["ctrl_e"] == {"dialogs": ["End session"], "text_kept": True, "tab_moved": False}
        assert keys["ctrl_tab"] == {"dialogs": [], "text_kept": True, "tab_moved": True}
