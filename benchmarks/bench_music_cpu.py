"""CPU used by kapsession while it plays music during a live session, against libVLC alone.

Two kinds of child process run in turn, each for the same wall time once its music plays:

- baseline: a bare python-vlc player playing one bundled track, nothing else;
- app: the real app offscreen (MainWindow + AppController) with a live session open and
  ticking, the live screen showing (its check-in tab; the timeline's music line counts the
  track down), and MusicSession playing the same track through the same libVLC output options.

Both play at the same volume: the baseline at the libVLC volume the app asks for at its
default music volume (60 % amplitude = libVLC 84). Each child reports the volume its playing
libVLC player really has, and with PulseAudio the parent also reads the volume the sound
server applies to each child's stream; the output prints them, and a run in which the app
and the baseline differ fails (the comparison would not be like-for-like). libVLC's dummy
output applies no volume (it reports 0), so with it none is checked.

Each child says READY once its music has played for a few seconds (past the app's fade-in);
the parent then reads the child's CPU time (user + system, all threads, from
/proc/<pid>/stat) at READY and again `KAPSESSION_BENCH_SECONDS` later (default 20). Each kind
runs `KAPSESSION_BENCH_RUNS` times (default 2), interleaved; the medians give the ratio
app / baseline, which must be at most 1.3. Exits 1 when it is not (or a child fails).

The CPU time is also split by thread: the main thread (Qt's event loop and all Python code:
the live screen, the session clock, MusicSession, the player's position polling) and the
other threads (libVLC's decoder and audio output). The baseline's main thread only sleeps.

Audio goes to a private PulseAudio null sink when PulseAudio is installed (nothing is heard),
else to libVLC's dummy output; the output says which (`KAPSESSION_BENCH_AOUT=pulse|dummy`
forces one). Start-up (imports, database migration,
window creation) is reported too, but is not part of the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parent.parent
TRACK = REPO_ROOT / "assets" / "music" / "peak-wide-field.ogg"
TARGET_RATIO = 1.3
KINDS = ("baseline", "app")
WARMUP_S = 3.0  # after the music starts: past the app's 2 s fade-in and libVLC's start-up
MARGIN_S = 2.0  # a child keeps playing this long after the measured window
READY_TIMEOUT_S = 90.0
TARGET_RSS_BYTES = 250e6  # resident memory during a live session with music (issue 7)
MIB = 1024 * 1024


def seconds_setting() -> float:
    return float(os.environ.get("KAPSESSION_BENCH_SECONDS", "20"))


def runs_setting() -> int:
    return max(1, int(os.environ.get("KAPSESSION_BENCH_RUNS", "2")))


def pulse_installed() -> bool:
    return all(shutil.which(tool) for tool in ("pulseaudio", "pactl"))


@contextmanager
def private_null_sink() -> Iterator[dict[str, str] | None]:
    """The environment for children to play into a private PulseAudio null sink, the same
    set-up as the audio tests' (tests/support/pulse.py); None when PulseAudio is not installed."""
    if not pulse_installed():
        yield None
        return
    from support.pulse import null_sink_daemon

    with (
        tempfile.TemporaryDirectory(prefix="kapbench-pulse-") as folder,
        null_sink_daemon(Path(folder), "kapbench") as env,
    ):
        yield env


# --- the children -----------------------------------------------------------------------------


def app_vlc_volume() -> int:
    """The libVLC volume the app plays at by default: its music volume (an amplitude, under
    the room's default maximum) through the app's own amplitude → libVLC conversion."""
    from kapsession.audio.fades import amplitude_to_vlc_volume
    from kapsession.services.music_session import DEFAULT_VOLUME_PCT
    from kapsession.services.room_settings import DEFAULT_MAX_VOLUME_PCT

    return amplitude_to_vlc_volume(min(DEFAULT_VOLUME_PCT, DEFAULT_MAX_VOLUME_PCT) / 100)


def run_baseline(options: list[str], play_s: float, volume: int) -> int:
    """python-vlc alone: one player, one track, the app's libVLC options and volume."""
    from kapsession.audio.libvlc import load_libvlc

    instance = load_libvlc(options)
    player = instance.media_player_new()
    media = instance.media_new_path(str(TRACK))
    player.set_media(media)
    player.audio_set_volume(volume)
    player.play()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while player.get_time() <= 0:  # a polling child process, not a test: plain sleeps
        if time.monotonic() > deadline:
            print("ERROR libVLC did not start playing", flush=True)
            return 1
        time.sleep(0.05)
    time.sleep(WARMUP_S)
    print(f"READY volume={player.audio_get_volume()}", flush=True)
    time.sleep(play_s)
    player.stop()
    player.release()
    media.release()
    instance.release()
    return 0


def run_app(options: list[str], play_s: float) -> int:
    """The app offscreen: main window, live session ticking, music playing the same track."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer

    from kapsession.audio.backend import open_backend
    from kapsession.audio.player import PlayerState
    from kapsession.domain.clock import SystemClock
    from kapsession.paths import resolve_paths
    from kapsession.services.context import open_context
    from kapsession.ui.app import application
    from kapsession.ui.app_controller import AppController
    from kapsession.ui.main_window import MainWindow

    app = application()
    with tempfile.TemporaryDirectory(prefix="kapbench-app-") as folder:
        playlists = Path(folder) / "playlists"
        playlists.mkdir()
        (playlists / "arrival.m3u8").write_text(f"#EXTM3U\n{TRACK}\n", encoding="utf-8")
        clock = SystemClock()
        context = open_context(resolve_paths(data_dir=Path(folder) / "data", environ={}))
        service = context.service
        therapist = service.add_staff("Dr. Ruth Adeyemi", "therapist", at=clock.now())
        nurse = service.add_staff("Tom Becker", "nurse", at=clock.now())
        client = service.add_client("Maya", "Fischer", at=clock.now(), by=therapist.id)
        backend = open_backend(options)
        if not backend.available:
            print(f"ERROR {backend.problem}", flush=True)
            return 1
        window = MainWindow(training=False)
        controller = AppController(
            window,
            context,
            training=False,
            audio_backend=backend,
            playlists=playlists,
        )
        sign_in(controller)
        window.show()
        controller.start.start_session(
            protocol_key="sublingual-kap-3h",
            client_ids=(client.id,),
            modality="individual",
            room="Room 2",
            therapist_id=therapist.id,
            nurse_id=nurse.id,
        )
        music = controller.music
        if controller.live is None or music is None:
            print("ERROR the session did not open", flush=True)
            return 1
        music.play()
        started = time.monotonic()
        result = {"code": 0}

        def ready() -> None:
            # the volume libVLC really plays at, from the player(s) playing (the app's own
            # figures are amplitudes): read through private attributes, a benchmark's licence
            volumes = sorted(
                p._mp.audio_get_volume()
                for p in music._fader.players
                if p.state is PlayerState.PLAYING
            )
            print(f"READY volume={','.join(map(str, volumes)) or 'none'}", flush=True)
            QTimer.singleShot(round(play_s * 1000), app.quit)

        def wait_for_music() -> None:
            if music.now_playing().position_ms > 0:
                QTimer.singleShot(round(WARMUP_S * 1000), ready)
            elif time.monotonic() - started > READY_TIMEOUT_S:
                print("ERROR the music did not start", flush=True)
                result["code"] = 1
                app.quit()
            else:
                QTimer.singleShot(50, wait_for_music)

        wait_for_music()
        app.exec()
        music.close()
        controller.live.stop()
        window.close()
        context.close()
        return result["code"]


# --- the parent -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    kind: str
    playing_cpu_s: float  # CPU seconds over the measured window (the ratio uses these)
    main_thread_cpu_s: float  # of which the main thread (Qt, Python)
    total_cpu_s: float  # CPU seconds of the whole child, start-up included
    window_s: float  # wall time of the measured window
    vlc_volume: str  # what the child's playing libVLC player reports, e.g. "84"
    server_volume: str  # PulseAudio's volume of the child's stream(s), e.g. "84%"; "" without
    rss_mib: float = 0.0  # resident memory at the end of the window
    peak_rss_mib: float = 0.0  # the most it was resident at any time, start-up included

    @property
    def other_threads_cpu_s(self) -> float:
        return self.playing_cpu_s - self.main_thread_cpu_s


def resident_mib(pid: int) -> tuple[float, float]:
    """Resident memory now (VmRSS) and at its peak (VmHWM), in MiB, from /proc/<pid>/status."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024  # kB
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def cpu_seconds(stat_file: Path) -> float:
    """User + system CPU time from a /proc stat file (a process: all its threads, ever)."""
    stat = stat_file.read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def process_and_main_thread_cpu_s(pid: int) -> tuple[float, float]:
    return (
        cpu_seconds(Path(f"/proc/{pid}/stat")),
        cpu_seconds(Path(f"/proc/{pid}/task/{pid}/stat")),
    )


def volume_applies(options: list[str]) -> bool:
    """libVLC's dummy output plays nothing and applies no volume (it reports 0 for any)."""
    return "--aout=dummy" not in options


def server_volume(pid: int, env: dict[str, str]) -> str:
    """The volume PulseAudio applies to the streams of process `pid` ("" when it has none or
    PulseAudio is not in use): what the null sink really receives."""
    if "PULSE_SERVER" not in env:
        return ""
    listing = subprocess.run(
        ["pactl", "list", "sink-inputs"], env=env, capture_output=True, text=True, timeout=10
    ).stdout
    volumes = []
    for stream in listing.split("Sink Input #")[1:]:
        if f'application.process.id = "{pid}"' in stream:
            found = re.search(r"^\s*Volume:.*?(\d+)%", stream, re.MULTILINE)
            volumes.append(f"{found.group(1)}%" if found else "?")
    return ",".join(sorted(volumes))


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(
    kind: str, options: list[str], env: dict[str, str], window_s: float, volume: int
) -> Measurement:
    with tempfile.TemporaryFile("w+") as errors:
        try:
            return _measure(kind, options, env, window_s, volume, errors)
        except RuntimeError as exc:
            errors.seek(0)
            tail = "\n".join(errors.read().strip().splitlines()[-15:])
            raise RuntimeError(f"{exc}\n{tail}" if tail else str(exc)) from None


def _measure(
    kind: str,
    options: list[str],
    env: dict[str, str],
    window_s: float,
    volume: int,
    errors: IO[str],
) -> Measurement:
    before_total = children_cpu_s()
    child = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            kind,
            "--options",
            json.dumps(options),
            "--seconds",
            str(window_s + MARGIN_S),
            "--volume",
            str(volume),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline().strip()  # the child's first line: READY volume=… or ERROR …
    if not line.startswith("READY volume="):
        child.kill()
        child.wait()
        raise RuntimeError(f"{kind}: {line or 'exited before playing'}")
    vlc_volume = line.removeprefix("READY volume=")
    start_cpu, start_main = process_and_main_thread_cpu_s(child.pid)
    start = time.monotonic()
    time.sleep(window_s)  # the measured window is wall time by definition
    end_cpu, end_main = process_and_main_thread_cpu_s(child.pid)
    elapsed = time.monotonic() - start
    rss, peak = resident_mib(child.pid)
    heard = server_volume(child.pid, env)  # after the window: never inside it
    rest = child.stdout.read()
    code = child.wait(timeout=READY_TIMEOUT_S)
    if code != 0:
        raise RuntimeError(f"{kind}: exited with {code}: {rest.strip()}")
    if volume_applies(options) and vlc_volume != str(volume):
        raise RuntimeError(
            f"{kind}: plays at libVLC volume {vlc_volume}, not {volume} like the other child: "
            "the comparison would not be like-for-like"
        )
    return Measurement(
        kind,
        end_cpu - start_cpu,
        end_main - start_main,
        children_cpu_s() - before_total,
        elapsed,
        vlc_volume,
        heard,
        rss,
        peak,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=KINDS)
    parser.add_argument("--options", default="[]")
    parser.add_argument("--seconds", type=float, default=0.0)
    parser.add_argument("--volume", type=int, default=100)  # libVLC's, for the baseline
    args = parser.parse_args()
    if args.child == "baseline":
        return run_baseline(json.loads(args.options), args.seconds, args.volume)
    if args.child == "app":
        return run_app(json.loads(args.options), args.seconds)

    if not sys.platform.startswith("linux"):
        print("bench_music_cpu: reads /proc, so it runs on Linux only; skipped.")
        return 0
    window_s, runs = seconds_setting(), runs_setting()
    sys.path.insert(0, str(REPO_ROOT / "tests"))  # the audio tests' PulseAudio helper
    from support.pulse import PulseUnavailable

    output_choice = os.environ.get("KAPSESSION_BENCH_AOUT", "").strip().lower()
    if output_choice not in ("", "pulse", "dummy"):
        print(f"FAIL: KAPSESSION_BENCH_AOUT must be pulse or dummy, not {output_choice!r}")
        return 1
    if output_choice == "pulse" and not pulse_installed():
        print("FAIL: KAPSESSION_BENCH_AOUT=pulse but PulseAudio is not installed")
        return 1
    use_pulse = output_choice != "dummy"
    try:
        with private_null_sink() if use_pulse else nullcontext() as pulse_env:
            if pulse_env is None:
                why = "as asked" if output_choice == "dummy" else "PulseAudio is not installed"
                output = f"libVLC's dummy output ({why})"
                options = ["--aout=dummy"]
                env = dict(os.environ)
            else:
                output = "PulseAudio, private null sink"
                options = ["--aout=pulse"]
                env = {**os.environ, **pulse_env}
            env["QT_QPA_PLATFORM"] = "offscreen"
            volume = app_vlc_volume()
            loudness = (
                f"both at libVLC volume {volume} (the app's default music volume)"
                if volume_applies(options)
                else "no volume applied (the dummy output)"
            )
            print(
                f"music CPU: {TRACK.relative_to(REPO_ROOT)}, audio to {output}; "
                f"{runs} run(s) of {window_s:.0f} s each, after a {WARMUP_S:.0f} s warm-up; "
                + loudness
            )
            results: list[Measurement] = []
            for run in range(1, runs + 1):
                for kind in KINDS:
                    m = measure(kind, options, env, window_s, volume)
                    results.append(m)
                    heard = f"; volume libVLC {m.vlc_volume}" if volume_applies(options) else ""
                    heard += f", PulseAudio {m.server_volume}" if m.server_volume else ""
                    print(
                        f"  run {run} {kind:<8} {m.playing_cpu_s:5.2f} CPU s in {m.window_s:4.1f} s"
                        f" ({100 * m.playing_cpu_s / m.window_s:4.1f} % of a core): main thread "
                        f"{m.main_thread_cpu_s:4.2f}, libVLC threads {m.other_threads_cpu_s:4.2f};"
                        f" whole process with start-up {m.total_cpu_s:5.2f}{heard};"
                        f" resident {m.rss_mib:.0f} MiB (peak {m.peak_rss_mib:.0f})"
                    )
    except (PulseUnavailable, RuntimeError, OSError) as exc:
        print(f"FAIL: the benchmark could not run: {exc}")
        return 1

    def median(kind: str, what: str) -> float:
        return float(statistics.median(getattr(m, what) for m in results if m.kind == kind))

    baseline, app = median("baseline", "playing_cpu_s"), median("app", "playing_cpu_s")
    ratio = app / baseline if baseline > 0 else float("inf")
    print(
        f"  medians over {window_s:.0f} s: libVLC alone {baseline:.2f} CPU s; app {app:.2f} CPU s"
        f" = main thread {median('app', 'main_thread_cpu_s'):.2f} + libVLC threads "
        f"{median('app', 'other_threads_cpu_s'):.2f}"
    )
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    print(f"{verdict}: app / libVLC alone = {ratio:.2f}x (target <= {TARGET_RATIO}x)")
    peak = max(m.peak_rss_mib for m in results if m.kind == "app")
    alone = max(m.peak_rss_mib for m in results if m.kind == "baseline")
    memory = "PASS" if peak * MIB <= TARGET_RSS_BYTES else "FAIL"
    print(
        f"{memory}: app resident memory at most {peak:.0f} MiB ({peak * MIB / 1e6:.0f} MB) "
        f"over the runs, libVLC alone {alone:.0f} MiB = {peak / alone:.1f}x "
        f"(target <= {TARGET_RSS_BYTES / 1e6:.0f} MB)"
    )
    from verdicts import report

    report("music-cpu", verdict == "PASS", f"{ratio:.2f}x libVLC alone", f"<= {TARGET_RATIO}x")
    report(
        "resident-memory",
        memory == "PASS",
        f"{peak * MIB / 1e6:.0f} MB at its peak",
        f"<= {TARGET_RSS_BYTES / 1e6:.0f} MB",
    )
    return 0 if verdict == memory == "PASS" else 1


def sign_in(controller: Any) -> None:
    """Signed in as the clinic administrator through the real service (issue 18: the window
    opens to sign-in; the benchmark measures the screen behind it, not the sign-in)."""
    access = controller.access.access
    passphrase, pin = "harbour lantern meadow", "518204"
    if access.needs_administrator():
        access.create_administrator("Clinic Administrator", passphrase, passphrase)
    admin = access.staff.administrators()[0]
    if access.needs_first_sign_in(admin.id):
        controller.access.first_sign_in(admin.id, passphrase, pin, pin)
    else:
        controller.access.sign_in(admin.id, pin)


if __name__ == "__main__":
    sys.exit(main())
