"""`kapsession sound-check`: a few seconds of a track through the real libVLC, and the report.

The audible check plays a generated tone into a private PulseAudio null sink (conftest
pulse_sink) while `parec` records the sink's monitor, then measures the recording. The
command line runs in this process (kapsession.__main__.main) with the silent `adummy` output.
"""

from __future__ import annotations

import array
import json
import logging
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pytestqt.qtbot import QtBot
from support.pulse import record_sink

from kapsession.__main__ import main
from kapsession.audio.sound_check import play_briefly
from kapsession.services.sound_check import default_track

if TYPE_CHECKING:
    from conftest import PulseSink, Tones

RATE_HZ = 44100
WINDOW = RATE_HZ // 20  # 50 ms
BYTES_PER_S = RATE_HZ * 2
TONE_HZ = 440.0
SECONDS = 2.0
AUDIBLE_DBFS = -40.0  # a 0.5 tone at the check's quiet volume is far above this
WAIT_MS = 15000


def window_levels_dbfs(recording: Path) -> list[float]:
    """RMS level of each 50 ms window of a mono s16le recording, in dBFS."""
    samples = array.array("h")
    samples.frombytes(recording.read_bytes()[: recording.stat().st_size // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    levels = []
    for start in range(0, len(samples) - WINDOW + 1, WINDOW):
        chunk = samples[start : start + WINDOW]
        rms = math.sqrt(sum(v * v for v in chunk) / WINDOW) / 32768
        levels.append(20 * math.log10(rms) if rms > 0 else -math.inf)
    return levels


@pytest.mark.slow
def test_given_a_tone_when_sound_checked_through_pulseaudio_then_it_is_heard_at_the_sink(
    qtbot: QtBot, pulse_sink: PulseSink, tones: Tones, tmp_path: Path
) -> None:
    # Given a 6 s tone, and the sink's monitor being recorded
    tone = tones.wav("tone.wav", freq_hz=TONE_HZ, seconds=6, amplitude=0.5, rate_hz=RATE_HZ)
    recording = tmp_path / "sink.raw"
    with record_sink(pulse_sink, recording, rate_hz=RATE_HZ):
        qtbot.waitUntil(lambda: recording.stat().st_size >= BYTES_PER_S // 5, timeout=WAIT_MS)
        # When the sound check plays it through PulseAudio
        result = play_briefly(tone, seconds=SECONDS, aout="pulse")
        # (the last of it reaches the monitor a moment after libVLC stops)
        stopped_at_bytes = recording.stat().st_size
        qtbot.waitUntil(
            lambda: recording.stat().st_size >= stopped_at_bytes + BYTES_PER_S // 2,
            timeout=WAIT_MS,
        )

    # Then it reports that it played at least the seconds asked, with the libVLC it used
    assert result.problem is None
    assert result.played is True
    assert result.played_ms >= SECONDS * 1000
    assert result.duration_ms == 6000
    assert result.output == "pulse"
    assert result.libvlc_version
    assert result.libvlc_path is not None and Path(result.libvlc_path).is_file()
    # ... and the tone reached the sink: audible, for about as long as it said it played
    levels = window_levels_dbfs(recording)
    audible = [level for level in levels if level > AUDIBLE_DBFS]
    print(
        f"\nmeasured: loudest window {max(levels):.1f} dBFS, {len(audible) * 0.05:.2f} s "
        f"audible of {len(levels) * 0.05:.2f} s recorded; played_ms {result.played_ms}"
    )
    assert max(levels) > AUDIBLE_DBFS, "the recording of the sink is silent"
    assert len(audible) * 0.05 >= 0.75 * SECONDS, "much less was heard than was reported"


@pytest.mark.parametrize("aout", [None, "adummy"], ids=["default-output", "adummy"])
def test_given_a_missing_file_when_sound_checked_then_it_did_not_play_and_names_the_file(
    tmp_path: Path, aout: str | None
) -> None:
    missing = tmp_path / "no such track.ogg"
    result = play_briefly(missing, seconds=1, aout=aout)
    assert result.played is False
    assert result.played_ms == 0
    assert result.problem is not None and str(missing) in result.problem
    assert result.output == (aout or "default")


@pytest.mark.parametrize("kind", ["noise", "empty"])
def test_given_a_file_that_is_not_audio_when_sound_checked_then_it_did_not_play(
    tones: Tones, kind: str
) -> None:
    # Given a file with an audio name holding noise, or nothing
    bad = tones.corrupt("damaged.ogg") if kind == "noise" else tones.raw("damaged.ogg", b"")
    # When it is sound-checked
    result = play_briefly(bad, seconds=1, aout="adummy")
    # Then it did not play, and the problem names the file and what may be wrong with it
    assert result.played is False
    assert result.played_ms == 0
    assert result.problem is not None
    assert "damaged.ogg" in result.problem
    assert "damaged" in result.problem.replace("damaged.ogg", "")
    # ... while libVLC itself loaded (the file is the problem, not the laptop)
    assert result.libvlc_path is not None and Path(result.libvlc_path).is_file()


def test_the_default_track_ships_with_the_app() -> None:
    track = default_track()
    assert track.is_file()
    assert track.stat().st_size > 0


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def in_process_main(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """main() installs its crash hook and logging; put this process's back afterwards."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


@pytest.mark.usefixtures("in_process_main")
@pytest.mark.parametrize("which", ["given", "default"])
def test_given_a_playable_track_when_the_command_runs_then_it_exits_0_and_reports_json(
    tones: Tones, tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    # Given a tone file, or no file (the bundled default track)
    track = tones.wav("tone.wav", seconds=6) if which == "given" else default_track()
    files = [str(track)] if which == "given" else []
    # When `kapsession sound-check` runs with the silent output
    code = main(
        [
            *("--data-dir", str(tmp_path / "data")),
            *("sound-check", "--aout", "adummy", "--seconds", "1", "--json", *files),
        ]
    )
    # Then it exits 0 and prints one JSON report saying it played that file
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert report["ok"] is True
    assert report["file"] == str(track)
    assert report["played_ms"] >= 1000
    assert report["output"] == "adummy"
    assert report["problem"] is None
    assert Path(report["libvlc_path"]).is_file()
    assert report["libvlc_version"]


@pytest.mark.usefixtures("in_process_main")
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_given_a_missing_track_when_the_command_runs_then_it_exits_1_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    missing = tmp_path / "missing.ogg"
    code = main(
        [
            *("--data-dir", str(tmp_path / "data")),
            *("sound-check", "--aout", "adummy", "--seconds", "1", str(missing)),
            *(["--json"] if as_json else []),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    if as_json:
        report = json.loads(out)
        assert report["ok"] is False
        assert str(missing) in report["problem"]
    else:
        assert out == ""
    assert err == (
        f"kapsession: the sound check failed: {missing} does not exist; check the file name "
        "(or give none, for the bundled track)\n"
    )
