"""What comes out of the loudspeaker: a real crossfade through libVLC into PulseAudio.

A private PulseAudio daemon with a null sink (conftest.pulse_sink) receives libVLC's output;
`parec` records the sink's monitor. A 440 Hz tone crossfades into a 660 Hz tone over 2 s,
then `quiet()` fades to silence. Levels are measured in 50 ms windows, each tone's own level
by a Hann-windowed Goertzel filter, and the test asserts:

- no gap: from the first tone's start to `quiet()` the summed level never dips by 3 dB;
- the outgoing tone only falls and the incoming one only rises during the crossfade;
- summed power (440² + 660²) stays within ±1.5 dB of the level before the crossfade
  from 0.5 s before to 0.5 s after the crossfade (equal-power in amplitude, converted
  through libVLC's cubic volume);
- after `quiet()` the output is below −50 dBFS.
"""

from __future__ import annotations

import array
import itertools
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pytestqt.qtbot import QtBot
from support.pulse import record_sink

from kapsession.audio.crossfader import Crossfader
from kapsession.audio.libvlc import load_libvlc
from kapsession.audio.player import Player
from kapsession.audio.vlc_player import VlcPlayer

if TYPE_CHECKING:
    from conftest import PulseSink, Tones

RATE_HZ = 44100
WINDOW = RATE_HZ // 20  # 50 ms
BYTES_PER_S = RATE_HZ * 2
TONE_AMPLITUDE = 0.5
CROSSFADE_S = 2.0
QUIET_S = 1.0
POWER_BOUND_DB = 1.5
SILENCE_DBFS = -50.0
STEP_TOLERANCE_DB = 0.3  # a window may read this much against the ramp's direction
WAIT_MS = 15000

pytestmark = pytest.mark.slow


def goertzel_amplitude(samples: Sequence[float], freq_hz: float) -> float:
    """Peak amplitude of the `freq_hz` component in `samples` (Hann window)."""
    count = len(samples)
    coefficient = 2 * math.cos(2 * math.pi * freq_hz / RATE_HZ)
    previous = before_previous = 0.0
    window_sum = 0.0
    for i, sample in enumerate(samples):
        weight = 0.5 - 0.5 * math.cos(2 * math.pi * i / (count - 1))
        window_sum += weight
        current = sample * weight + coefficient * previous - before_previous
        before_previous, previous = previous, current
    power = previous**2 + before_previous**2 - coefficient * previous * before_previous
    return 2 * math.sqrt(max(0.0, power)) / window_sum


@dataclass(frozen=True)
class Window:
    start_s: float
    a440: float  # amplitude of the outgoing tone
    a660: float  # amplitude of the incoming tone
    rms: float

    @property
    def summed_power(self) -> float:
        return self.a440**2 + self.a660**2


def db(value: float) -> float:
    return 20 * math.log10(value) if value > 0 else -math.inf


def analyse(recording: Path) -> list[Window]:
    samples = array.array("h")
    samples.frombytes(recording.read_bytes()[: recording.stat().st_size // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    windows = []
    for start in range(0, len(samples) - WINDOW + 1, WINDOW):
        chunk = [value / 32768 for value in samples[start : start + WINDOW]]
        windows.append(
            Window(
                start / RATE_HZ,
                goertzel_amplitude(chunk, 440.0),
                goertzel_amplitude(chunk, 660.0),
                math.sqrt(sum(v * v for v in chunk) / WINDOW),
            )
        )
    return windows


def wait_for_position(qtbot: QtBot, player: Player, position_ms: int) -> None:
    if player.position_ms >= position_ms:
        return
    with qtbot.waitSignal(
        player.position_changed, timeout=WAIT_MS, check_params_cb=lambda ms: ms >= position_ms
    ):
        pass


def test_given_two_tones_when_crossfaded_and_quieted_then_the_output_is_smooth_and_silent(
    qtbot: QtBot, pulse_sink: PulseSink, tones: Tones, tmp_path: Path
) -> None:
    # Given two tones and a crossfader playing through PulseAudio, recorded at the sink
    low = tones.wav("a440.wav", freq_hz=440, seconds=8, amplitude=TONE_AMPLITUDE, rate_hz=RATE_HZ)
    high = tones.wav("b660.wav", freq_hz=660, seconds=8, amplitude=TONE_AMPLITUDE, rate_hz=RATE_HZ)
    instance = load_libvlc(("--aout=pulse",))
    fader = Crossfader(lambda: VlcPlayer(instance), crossfade_s=CROSSFADE_S)
    recording = tmp_path / "sink.raw"
    errors: list[str] = []
    fader.error.connect(errors.append)
    try:
        with record_sink(pulse_sink, recording, rate_hz=RATE_HZ):
            qtbot.waitUntil(lambda: recording.stat().st_size >= BYTES_PER_S // 5, timeout=WAIT_MS)

            # When the first tone plays, then crossfades to the second, then goes quiet
            fader.play(low)
            wait_for_position(qtbot, fader.leading, 2000)
            with qtbot.waitSignal(fader.fade_finished, timeout=WAIT_MS):
                fader.crossfade_to(high)
            wait_for_position(qtbot, fader.leading, round(CROSSFADE_S * 1000) + 1500)
            with qtbot.waitSignal(fader.fade_finished, timeout=WAIT_MS):
                fader.quiet(QUIET_S)
            paused_at_bytes = recording.stat().st_size
            qtbot.waitUntil(
                lambda: recording.stat().st_size >= paused_at_bytes + BYTES_PER_S * 6 // 10,
                timeout=WAIT_MS,
            )
    finally:
        fader.close()
        instance.release()
    assert errors == []

    # Then: measure
    windows = analyse(recording)
    reference = TONE_AMPLITUDE
    first = next(i for i, w in enumerate(windows) if w.a440 > 0.5 * reference)
    steady = windows[first + 2 : first + 12]
    level = sum(w.a440 for w in steady) / len(steady)
    fade_start = next(i for i in range(first + 2, len(windows)) if windows[i].a660 > 0.01 * level)
    fade_start -= 1
    fade_end = max(i for i, w in enumerate(windows) if w.a440 > 0.01 * level) + 1
    quiet_start = next(i for i in range(fade_end, len(windows)) if windows[i].a660 < 0.9 * level)
    silent = [w for w in windows[quiet_start:] if w.a660 < 0.001 * level]

    crossfade = windows[fade_start : fade_end + 1]
    around_fade = windows[fade_start - 10 : fade_end + 11]
    power_db = [10 * math.log10(w.summed_power / level**2) for w in around_fade]
    span = windows[first + 1 : quiet_start - 1]
    span_db = [10 * math.log10(w.summed_power / level**2) for w in span]
    outgoing_steps = [db(b.a440) - db(a.a440) for a, b in itertools.pairwise(crossfade)]
    incoming_steps = [db(b.a660) - db(a.a660) for a, b in itertools.pairwise(crossfade)]
    quiet_windows = windows[quiet_start : quiet_start + round(QUIET_S * 20) + 2]
    quiet_steps = [b.rms - a.rms for a, b in itertools.pairwise(quiet_windows)]
    tail = windows[-6:]

    print(
        f"\nmeasured: tone level {db(level):.2f} dBFS (expected {db(reference):.2f}); "
        f"crossfade {len(crossfade) * 0.05:.2f} s over windows {fade_start}-{fade_end}; "
        f"summed power around it {min(power_db):+.2f} … {max(power_db):+.2f} dB; lowest "
        f"window from first tone to quiet {min(span_db):+.2f} dB over {len(span) * 0.05:.2f} s; "
        f"largest rise of the outgoing tone "
        f"{max(x for x in outgoing_steps if math.isfinite(x)):+.2f} dB, largest fall of the "
        f"incoming {min(x for x in incoming_steps if math.isfinite(x)):+.2f} dB; after quiet "
        f"{db(max(w.rms for w in tail)):.1f} dBFS ({len(silent)} silent windows)"
    )

    assert db(level) == pytest.approx(db(reference), abs=1.0), "the first tone plays at full level"
    assert 0.8 * CROSSFADE_S <= len(crossfade) * 0.05 <= CROSSFADE_S + 0.5
    assert all(abs(p) <= POWER_BOUND_DB for p in power_db), power_db
    assert all(p > -3.0 for p in span_db), "no gap or dip between the tracks"
    assert all(step <= STEP_TOLERANCE_DB for step in outgoing_steps if math.isfinite(step))
    assert all(step >= -STEP_TOLERANCE_DB for step in incoming_steps if math.isfinite(step))
    assert db(crossfade[0].a440) - db(crossfade[-1].a440) >= 40, "the old tone fades out"
    assert db(crossfade[-1].a660) - db(crossfade[0].a660) >= 40, "the new tone fades in"
    assert all(step <= 1e-3 for step in quiet_steps), "quiet() only ever gets quieter"
    assert all(db(w.rms) < SILENCE_DBFS for w in tail), [db(w.rms) for w in tail]
