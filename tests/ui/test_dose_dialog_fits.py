"""The dose dialog fits the room laptop's screen (1366x768 and 1280x720) at its tallest: the
hold-dose block and the prescriber's override for a dose outside the order shown. Its fields
scroll, the buttons stay on the screen, and Tab reaches every field (each scrolled into view)
and then the buttons. The real dialog in a child process, on Qt's offscreen platform given a
screen of that size (the tests' own screen is one size only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QRect

import kapsession

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
REPO_ROOT = Path(kapsession.__file__).resolve().parents[1]
SCREENS = {"1366x768": (1366, 768), "1280x720": (1280, 720)}


def opened_dialog(size: tuple[int, int], folder: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    width, height = size
    screen = {"name": "laptop", "x": 0, "y": 0, "width": width, "height": height}
    config = folder / "screen.json"
    config.write_text(json.dumps({"screens": [{**screen, "logicalDpi": 96}]}))
    env["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    result = subprocess.run(
        [sys.executable, str(HERE / "dose_dialog_fits_child.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    opened: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return opened


@pytest.mark.parametrize("screen", SCREENS)
def test_the_dose_dialog_with_its_overrides_fits_the_laptop(tmp_path: Path, screen: str) -> None:
    # Given a laptop screen of this size
    # When the dose dialog shows the hold-dose block and asks for the prescriber's override
    opened = opened_dialog(SCREENS[screen], tmp_path)
    assert opened["overrides_shown"] == [True] * 6, opened
    # Then the dialog with its frame lies inside the screen's free area
    left, top, width, height = opened["available"]  # type: ignore[misc]
    x, y, frame_width, frame_height = opened["frame"]  # type: ignore[misc]
    assert top <= y and y + frame_height <= top + height, opened
    assert left <= x and x + frame_width <= left + width, opened
    # And its fields scroll while the buttons lie inside it
    assert opened["body_scrolls"] is True, opened
    buttons = QRect(*opened["buttons"])  # type: ignore[misc]
    assert QRect(*opened["dialog"]).contains(buttons), opened  # type: ignore[misc]
    # And Tab from the dose field reaches the override's fields and then both buttons, each in
    # view when it has the focus
    tab = opened["tab"]
    names = [step["name"] for step in tab]  # type: ignore[attr-defined]
    for wanted in (
        "Dose",
        "Override reason",
        "Prescriber overriding",
        "Prescriber's PIN",
        "Prescriber's reason",
        "Save with the prescriber's override",
        "Cancel",
    ):
        assert wanted in names, names
    out_of_view = [step["name"] for step in tab if not step["in_view"]]  # type: ignore[attr-defined]
    assert out_of_view == [], tab
