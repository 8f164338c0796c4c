"""What comes out of the loudspeaker when the session moves to its next phase.

A live session (sublingual protocol) on a FakeClock, its music on the real libVLC back-end
playing into a private PulseAudio null sink (conftest.pulse_sink), recorded with `parec`. The
arrival phase's playlist is a 440 Hz tone, the intention phase's a 660 Hz tone. The therapist
presses play; the session clock is then moved across the arrival → intention boundary and the
live session ticks, so MusicSession crossfades (transition "fade", the protocol's 6 s) to the
intention playlist; then `quiet()` fades to silence. Only the session clock is fake: the
crossfade runs on real time, so the test waits for the audio itself (positions reported by
the player, bytes recorded), never for a fixed time.

Levels are measured in 50 ms windows with the Goertzel filter of test_audible_crossfade, and
the test asserts:

- the first tone plays at the music volume (60 % amplitude of a 0.5 tone: −10.5 dBFS ±1 dB);
- no gap: from the end of the first tone's fade-in until `quiet()` the summed power of the two
  tones never dips by 3 dB;
- the 440 Hz tone only falls and the 660 Hz tone only rises during the crossfade (a window may
  read 0.3 dB against the direction) over 4.8-6.5 s, and each is at least 50 dB below the music
  where it should not sound (660 Hz in the second before, 440 Hz after);
- summed power (440² + 660²) stays within ±1.5 dB of the level before the crossfade, from 0.5 s
  before it to 0.5 s after it;
- after `quiet()` the level only falls, and ends below −50 dBFS.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pytestqt.qtbot import QtBot
from support.pulse import record_sink
from support.real_tools import unavailable
from test_audible_crossfade import BYTES_PER_S, RATE_HZ, analyse, db

from kapsession.audio.backend import open_backend
from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.context import open_context
from kapsession.services.live_session import LiveSession
from kapsession.services.music_session import DEFAULT_VOLUME_PCT, QUIET_FADE_S, MusicSession
from kapsession.storage.music_log import MusicLogRepository

if TYPE_CHECKING:
    from conftest import PulseSink, Tones

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
INTENTION_AT = START + timedelta(minutes=20)  # arrival -> intention in the sublingual protocol
CROSSFADE_S = 6.0  # the sublingual protocol's crossfade
TONE_AMPLITUDE = 0.5
POWER_BOUND_DB = 1.5
DIP_BOUND_DB = 3.0
SILENCE_DBFS = -50.0
STEP_TOLERANCE_DB = 0.3
GONE_DB = 50.0  # a tone faded out (or not yet in) is at least this far below the music
WAIT_MS = 30000  # generous: real audio, a real sound server

pytestmark = pytest.mark.slow


def write_playlist(folder: Path, name: str, track: Path) -> None:
    folder.joinpath(name).write_text(f"#EXTM3U\n#EXTINF:-1,{track.stem}\n{track}\n", "utf-8")


def test_given_a_live_session_when_the_phase_changes_then_the_music_crossfades_smoothly(
    qtbot: QtBot, pulse_sink: PulseSink, tones: Tones, tmp_path: Path
) -> None:
    # Given the arrival playlist is a 440 Hz tone and the intention playlist a 660 Hz tone
    lists = tmp_path / "playlists"
    lists.mkdir()
    low = tones.wav("a440.wav", freq_hz=440, seconds=14, amplitude=TONE_AMPLITUDE, rate_hz=RATE_HZ)
    high = tones.wav("b660.wav", freq_hz=660, seconds=16, amplitude=TONE_AMPLITUDE, rate_hz=RATE_HZ)
    write_playlist(lists, "arrival.m3u8", low)
    write_playlist(lists, "intention.m3u8", high)

    # ... and a live session 19 minutes in, its music on libVLC playing into PulseAudio
    backend = open_backend(options=("--aout=pulse",))
    if not backend.available:
        unavailable(backend.problem or "libVLC does not load")
    clock = FakeClock(START)
    context = open_context(resolve_paths(data_dir=tmp_path / "data", environ={}), clock=clock)
    service = context.service
    therapist = service.add_staff("Dr. Ruth Adeyemi", "therapist", at=clock.now())
    nurse = service.add_staff("Tom Becker", "nurse", at=clock.now())
    client = service.add_client("Maya", "Fischer", at=clock.now(), by=therapist.id)
    record = service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[client.id],
        modality="individual",
        at=clock.now(),
        therapist_id=therapist.id,
        nurse_id=nurse.id,
        by=therapist.id,
    )
    live = LiveSession(service, record.id, clock)
    clock.advance(19 * 60)
    live.tick()
    music = MusicSession(live, MusicLogRepository(context.database), backend, lists)
    music.set_transition("fade")
    notices: list[str] = []
    music.notice.connect(notices.append)

    recording = tmp_path / "sink.raw"
    try:
        with record_sink(pulse_sink, recording, rate_hz=RATE_HZ):
            qtbot.waitUntil(lambda: recording.stat().st_size >= BYTES_PER_S // 5, timeout=WAIT_MS)

            # When the therapist presses play and the first tone has played 4 s (2 s fade-in)
            music.play()
            qtbot.waitUntil(lambda: music.now_playing().position_ms >= 4000, timeout=WAIT_MS)

            # ... and the session clock crosses into the intention phase and ticks
            clock.advance((INTENTION_AT - clock.now()).total_seconds() + 1)
            live.tick()
            assert music.now_playing().playlist_name == "intention.m3u8"

            # ... and, once the crossfade is over and the new tone has played on, quiet is pressed
            qtbot.waitUntil(
                lambda: music.now_playing().position_ms >= CROSSFADE_S * 1000 + 1500,
                timeout=WAIT_MS,
            )
            music.quiet()
            quiet_at_bytes = recording.stat().st_size
            qtbot.waitUntil(
                lambda: (
                    recording.stat().st_size >= quiet_at_bytes + BYTES_PER_S * (QUIET_FADE_S + 1)
                ),
                timeout=WAIT_MS,
            )
            logged = MusicLogRepository(context.database).for_session(record.id)
    finally:
        music.close()
        live.stop()
        context.close()
    assert notices == []
    assert sorted((e.kind, e.track_title) for e in logged) == [
        ("phase_transition", None),
        ("quiet", "b660"),
        ("track_end", "a440"),
        ("track_start", "a440"),
        ("track_start", "b660"),
    ]

    # Then: measure
    windows = analyse(recording)
    peak = max(w.a440 for w in windows)
    fade_start = next(i for i, w in enumerate(windows) if w.a660 > 0.01 * peak) - 1
    before = windows[fade_start - 20 : fade_start - 1]  # the last second before the crossfade
    level = sum(w.a440 for w in before) / len(before)
    fade_end = max(i for i, w in enumerate(windows) if w.a440 > 0.01 * level) + 1
    faded_in = next(i for i, w in enumerate(windows) if w.a440 > 0.9 * level)
    quiet_start = next(i for i in range(fade_end, len(windows)) if windows[i].a660 < 0.9 * level)
    after = windows[fade_end + 2 : quiet_start - 1]
    level_660 = sum(w.a660 for w in after) / len(after)

    crossfade = windows[fade_start : fade_end + 1]
    around_fade = windows[fade_start - 10 : fade_end + 11]
    power_db = [10 * math.log10(w.summed_power / level**2) for w in around_fade]
    span = windows[faded_in : quiet_start - 1]
    span_db = [10 * math.log10(w.summed_power / level**2) for w in span]
    outgoing_steps = [db(b.a440) - db(a.a440) for a, b in itertools.pairwise(crossfade)]
    incoming_steps = [db(b.a660) - db(a.a660) for a, b in itertools.pairwise(crossfade)]
    quiet_windows = windows[quiet_start : quiet_start + round(QUIET_FADE_S * 20) + 2]
    quiet_steps = [b.rms - a.rms for a, b in itertools.pairwise(quiet_windows)]
    tail = windows[-6:]
    expected = TONE_AMPLITUDE * DEFAULT_VOLUME_PCT / 100

    print(
        f"\nmeasured: 440 Hz level {db(level):.2f} dBFS, 660 Hz level after the crossfade "
        f"{db(level_660):.2f} dBFS (expected {db(expected):.2f}); crossfade "
        f"{len(crossfade) * 0.05:.2f} s over windows {fade_start}-{fade_end}; summed power "
        f"around it {min(power_db):+.2f} … {max(power_db):+.2f} dB; lowest window from the end "
        f"of the fade-in to quiet {min(span_db):+.2f} dB over {len(span) * 0.05:.2f} s; largest "
        f"rise of the outgoing tone {max(x for x in outgoing_steps if math.isfinite(x)):+.2f} dB, "
        f"largest fall of the incoming {min(x for x in incoming_steps if math.isfinite(x)):+.2f} "
        f"dB; 660 Hz before {db(max(w.a660 for w in before) / level):.1f} dB, 440 Hz after "
        f"{db(max(w.a440 for w in after) / level):.1f} dB; after quiet "
        f"{db(max(w.rms for w in tail)):.1f} dBFS"
    )

    assert db(level) == pytest.approx(db(expected), abs=1.0), "the first tone at the music volume"
    assert db(level_660) == pytest.approx(db(level), abs=1.0), "the new tone at the same volume"
    assert 0.8 * CROSSFADE_S <= len(crossfade) * 0.05 <= CROSSFADE_S + 0.5
    assert all(abs(p) <= POWER_BOUND_DB for p in power_db), power_db
    assert all(p > -DIP_BOUND_DB for p in span_db), "no gap or dip between the phases' music"
    assert all(step <= STEP_TOLERANCE_DB for step in outgoing_steps if math.isfinite(step))
    assert all(step >= -STEP_TOLERANCE_DB for step in incoming_steps if math.isfinite(step))
    assert db(max(w.a660 for w in before) / level) <= -GONE_DB, "660 Hz only with the phase"
    assert db(max(w.a440 for w in after) / level) <= -GONE_DB, "440 Hz faded out completely"
    assert all(step <= 1e-3 for step in quiet_steps), "quiet() only ever gets quieter"
    assert all(db(w.rms) < SILENCE_DBFS for w in tail), [db(w.rms) for w in tail]
