"""Start-up on a 10,000-session database: the first frame, the filled start screen, the
live-session window, against a bare window started the same way.

Every child is started the same way (this venv's python, offscreen Qt, the same environment,
bytecode caches written beforehand as an installed app has them), from the moment the parent
starts the process. They run the kapsession of the working copy this file is in (started in
its folder, with it first on PYTHONPATH), whichever copy the venv was installed from:

    bare       a QMainWindow of the same size, shown and painted (nothing else); it prints the
               moment it was painted (time.monotonic(), the same clock in every process)
    bare+orm   the same window after importing SQLAlchemy's ORM: the least any app on this
               stack can take to a window over its database
    app-paint  python -m kapsession --data-dir DATA --training  with KAPSESSION_STARTUP_PROBE=paint
               (training mode: no sign-in, which the targets exclude, issue 18): the real
               entry point; it reports when its first frame was painted (the start screen, its
               client list saying it is loading) and when the start screen's lists were filled
               and painted (the database opened, the controller built)
    app        the same start with KAPSESSION_STARTUP_PROBE=live: the newest live session opened
               as Resume would (its timeline, check-ins, notes, music panel), then painted; timed
               to the JSON line it prints then, as bare+orm is (a later start of the day: a recent
               backup there)
    app-first  the same as app with the backups folder emptied first, so that this start is
               the day's first and makes the daily backup, in the background once the window is
               shown (checked after the child has ended)

The database is made by benchmarks/big_database.py (10,000 past sessions, one live).

Targets (issue 13):
    startup-first-paint   the median first paint of app-paint at most 2x the median bare
                          window (the time to filled lists is reported beside it)
    startup               the median live-session window (app) at most 1.5x the median
                          bare+orm floor
    startup-first-start   the median app-first at most 1.1x the median app (1.1: the spread
                          between runs of the same child on this machine)

Settings: KAPSESSION_BENCH_RUNS (default 7) runs of each child, interleaved;
KAPSESSION_BENCH_SESSIONS (default 10000).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

import big_database  # noqa: E402
from verdicts import report  # noqa: E402

FIRST_PAINT_RATIO = 2.0
LIVE_RATIO = 1.5
FIRST_START_RATIO = 1.1
RUNS = int(os.environ.get("KAPSESSION_BENCH_RUNS", "7"))
SESSIONS = int(os.environ.get("KAPSESSION_BENCH_SESSIONS", "10000"))
TIMEOUT_S = 120

BARE = """
import json, sys, time
{extra_import}
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1366, 768)
window.show()
def report():
    window.repaint()
    line = {{"shown": window.isVisible(), "painted_at": time.monotonic()}}
    print(json.dumps(line), flush=True)
    app.exit(0)
QTimer.singleShot(0, report)
sys.exit(app.exec())
"""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed app has its bytecode cached
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    )
    return env


def run_child(command: list[str], env: dict[str, str]) -> tuple[float, float, dict[str, object]]:
    """When the child started (time.monotonic()), seconds from then to its JSON line, the line."""
    started = time.monotonic()
    child = subprocess.Popen(
        command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    elapsed = time.monotonic() - started
    _out, err = child.communicate(timeout=TIMEOUT_S)
    if child.returncode != 0 or not line:
        raise SystemExit(
            f"startup bench: {' '.join(command[:3])} failed ({child.returncode}):\n{err[-2000:]}"
        )
    return started, elapsed, json.loads(line)


def seconds(line: dict[str, object], key: str, started: float) -> float:
    value = line.get(key)
    if not isinstance(value, float):
        raise SystemExit(f"startup bench: no {key} in {line}")
    return value - started


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="kapsession-bench-startup-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        made_at = time.perf_counter()
        # training mode (the training database): no sign-in, which the targets exclude (issue 18)
        big = big_database.build(
            data / "kapsession-training.sqlite3", sessions=SESSIONS, live_session=True
        )
        build_s = time.perf_counter() - made_at
        size_mb = big.path.stat().st_size / 1e6
        env = child_env()
        app = [sys.executable, "-m", "kapsession", "--data-dir", str(data), "--training"]
        live_env = {**env, "KAPSESSION_STARTUP_PROBE": "live"}
        paint_env = {**env, "KAPSESSION_STARTUP_PROBE": "paint"}
        bare = [sys.executable, "-c", BARE.format(extra_import="")]
        floor = [sys.executable, "-c", BARE.format(extra_import="import sqlalchemy.orm")]

        backups = data / "backups"
        times: dict[str, list[float]] = {
            "bare": [],
            "bare+orm": [],
            "first-paint": [],
            "lists-filled": [],
            "app": [],
            "app-first": [],
        }

        def check_live(line: dict[str, object]) -> None:
            if line.get("screen") != "live" or line.get("session") != str(big.live_session_id):
                raise SystemExit(f"startup bench: the app did not open the live session: {line}")
            if line.get("unused_at_live") != []:
                raise SystemExit(f"startup bench: the live window imported the exports: {line}")

        def live_start() -> float:
            _started, elapsed, line = run_child(app, live_env)
            check_live(line)
            return elapsed

        def first_start() -> float:
            """The day's first start: no backup yet; it must have made one when it ends."""
            shutil.rmtree(backups, ignore_errors=True)
            elapsed = live_start()
            if not list(backups.glob("*-daily.sqlite3")):
                raise SystemExit("startup bench: the first start of the day made no backup")
            return elapsed

        def paint_start() -> None:
            started, _elapsed, line = run_child(app, paint_env)
            first = (line.get("first_frame"), line.get("heavy_at_paint"), line.get("screen"))
            if first != ("start (loading)", [], "start") or not line.get("clients"):
                raise SystemExit(f"startup bench: not a start screen painted at once: {line}")
            times["first-paint"].append(seconds(line, "painted_at", started))
            times["lists-filled"].append(seconds(line, "filled_at", started))

        def bare_window(command: list[str]) -> float:
            started, _elapsed, line = run_child(command, env)
            return seconds(line, "painted_at", started)

        # Bytecode caches, as an installed app has them; one untimed start of each child.
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(REPO / "kapsession")],
            env=env,
            check=True,
        )
        bare_window(bare)
        first_start()
        paint_start()
        times["first-paint"].clear()
        times["lists-filled"].clear()

        for _ in range(RUNS):
            times["bare"].append(bare_window(bare))
            paint_start()
            times["app-first"].append(first_start())
            times["app"].append(live_start())
            # the floor as the app's live window is timed: to its line
            times["bare+orm"].append(run_child(floor, env)[1])

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"start-up: {SESSIONS} sessions in the database ({size_mb:.0f} MB, built in "
        f"{build_s:.0f} s), {RUNS} runs each, interleaved, offscreen; seconds from the process "
        "start"
    )
    for name, values in times.items():
        spread = ", ".join(f"{v:.3f}" for v in values)
        print(f"  {name:<12} median {medians[name]:.3f} s  ({spread})")
    print(
        f"  reference: bare+orm / bare = {medians['bare+orm'] / medians['bare']:.2f}x "
        "(importing SQLAlchemy's ORM alone)"
    )
    paint_ratio = medians["first-paint"] / medians["bare"]
    live_ratio = medians["app"] / medians["bare+orm"]
    first_ratio = medians["app-first"] / medians["app"]
    verdicts = [
        (
            "startup-first-paint",
            paint_ratio <= FIRST_PAINT_RATIO,
            f"{paint_ratio:.2f}x a bare window ({medians['first-paint']:.3f} s; lists filled "
            f"at {medians['lists-filled']:.3f} s)",
            f"<= {FIRST_PAINT_RATIO}x",
            f"first paint {medians['first-paint']:.3f} s / bare window {medians['bare']:.3f} s",
        ),
        (
            "startup",
            live_ratio <= LIVE_RATIO,
            f"{live_ratio:.2f}x the bare+orm floor ({medians['app']:.3f} s)",
            f"<= {LIVE_RATIO}x",
            f"live-session window {medians['app']:.3f} s / bare+orm floor "
            f"{medians['bare+orm']:.3f} s",
        ),
        (
            "startup-first-start",
            first_ratio <= FIRST_START_RATIO,
            f"{first_ratio:.2f}x a later start ({medians['app-first']:.3f} s)",
            f"<= {FIRST_START_RATIO}x",
            f"first start of the day {medians['app-first']:.3f} s / later start "
            f"{medians['app']:.3f} s",
        ),
    ]
    for _target, passed, figure, required, sentence in verdicts:
        ratio = figure.split("x ", 1)[0]
        print(f"{'PASS' if passed else 'FAIL'}: {sentence} = {ratio}x (target {required})")
    for target, passed, figure, required, _sentence in verdicts:
        report(target, passed, figure, required)
    return 0 if all(passed for _t, passed, *_rest in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
