"""Start-up to a shown live-session window on a 10,000-session database, against a bare window.

Target (issue 7): at most 1.5x a bare PySide6 window started the same way.

Both children are started the same way (this venv's python, offscreen Qt, the same
environment, bytecode caches written beforehand as an installed app has them) and timed from
the moment the parent starts the process to the moment the child prints its one JSON line,
which it does once its window is shown and painted:

    app        python -m kapsession --data-dir DATA  with KAPSESSION_STARTUP_PROBE=live:
               the real entry point (logging, database checks, the window and the start
               screen's lists, the daily backup's check in the background: a later start of
               the day, a recent backup there), then the newest live session opened as Resume
               would (its timeline, check-ins, notes, music panel), then painted
    bare       a QMainWindow of the same size, shown and painted (nothing else)
    bare+orm   the same window after importing SQLAlchemy's ORM: the least any app on this
               stack can take (a reference, not the target)

The database is made by benchmarks/big_database.py (10,000 past sessions, one live).

The first app start of a day also makes the daily backup of the database, in the background
once the window is shown (issue 13). It is timed as a child of its own:

    app-first  the same app start with the backups folder emptied first, so that this start
               is the day's first and makes the backup (checked after the child has ended)

Target (issue 13): the first start of the day no slower than the others: the median app-first
at most 1.1x the median app (1.1: the spread between runs of the same child on this machine).

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

TARGET_RATIO = 1.5
FIRST_START_RATIO = 1.1
RUNS = int(os.environ.get("KAPSESSION_BENCH_RUNS", "7"))
SESSIONS = int(os.environ.get("KAPSESSION_BENCH_SESSIONS", "10000"))
TIMEOUT_S = 120

BARE = """
import json, sys
{extra_import}
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1366, 768)
window.show()
def report():
    window.repaint()
    print(json.dumps({{"shown": window.isVisible()}}), flush=True)
    app.exit(0)
QTimer.singleShot(0, report)
sys.exit(app.exec())
"""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed app has its bytecode cached
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def time_to_line(command: list[str], env: dict[str, str]) -> tuple[float, dict[str, object]]:
    """Seconds from starting the process to its JSON line, and the line."""
    started = time.perf_counter()
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    elapsed = time.perf_counter() - started
    _out, err = child.communicate(timeout=TIMEOUT_S)
    if child.returncode != 0 or not line:
        raise SystemExit(
            f"startup bench: {' '.join(command[:3])} failed ({child.returncode}):\n{err[-2000:]}"
        )
    return elapsed, json.loads(line)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="kapsession-bench-startup-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        made_at = time.perf_counter()
        big = big_database.build(data / "kapsession.sqlite3", sessions=SESSIONS, live_session=True)
        build_s = time.perf_counter() - made_at
        size_mb = big.path.stat().st_size / 1e6
        env = child_env()
        app = [sys.executable, "-m", "kapsession", "--data-dir", str(data)]
        app_env = {**env, "KAPSESSION_STARTUP_PROBE": "live"}
        bare = [sys.executable, "-c", BARE.format(extra_import="")]
        floor = [sys.executable, "-c", BARE.format(extra_import="import sqlalchemy.orm")]

        backups = data / "backups"

        def check_live(line: dict[str, object]) -> None:
            if line.get("screen") != "live" or line.get("session") != str(big.live_session_id):
                raise SystemExit(f"startup bench: the app did not open the live session: {line}")

        def first_start() -> float:
            """The day's first start: no backup yet; it must have made one when it ends."""
            shutil.rmtree(backups, ignore_errors=True)
            elapsed, line = time_to_line(app, app_env)
            check_live(line)
            if not list(backups.glob("*-daily.sqlite3")):
                raise SystemExit("startup bench: the first start of the day made no backup")
            return elapsed

        # Bytecode caches, as an installed app has them; one untimed start of each child.
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(REPO / "kapsession")],
            env=env,
            check=True,
        )
        time_to_line(bare, env)
        first_start()

        times: dict[str, list[float]] = {"app": [], "app-first": [], "bare": [], "bare+orm": []}
        for _ in range(RUNS):
            times["bare"].append(time_to_line(bare, env)[0])
            times["app-first"].append(first_start())
            later_s, later = time_to_line(app, app_env)
            check_live(later)
            times["app"].append(later_s)
            times["bare+orm"].append(time_to_line(floor, env)[0])

    medians = {name: statistics.median(values) for name, values in times.items()}
    ratio = medians["app"] / medians["bare"]
    print(
        f"start-up to a shown window: {SESSIONS} sessions in the database ({size_mb:.0f} MB, "
        f"built in {build_s:.0f} s), {RUNS} runs each, interleaved, offscreen"
    )
    for name, values in times.items():
        spread = ", ".join(f"{v:.3f}" for v in values)
        print(f"  {name:<9} median {medians[name]:.3f} s  ({spread})")
    print(
        f"  reference: bare+orm / bare = {medians['bare+orm'] / medians['bare']:.2f}x "
        "(importing SQLAlchemy's ORM alone)"
    )
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    print(
        f"{verdict}: live-session window {medians['app']:.3f} s / bare window "
        f"{medians['bare']:.3f} s = {ratio:.2f}x (target <= {TARGET_RATIO}x)"
    )
    report(
        "startup",
        verdict == "PASS",
        f"{ratio:.2f}x a bare window ({medians['app']:.3f} s)",
        f"<= {TARGET_RATIO}x",
    )
    first_ratio = medians["app-first"] / medians["app"]
    first_verdict = "PASS" if first_ratio <= FIRST_START_RATIO else "FAIL"
    print(
        f"{first_verdict}: first start of the day {medians['app-first']:.3f} s / later start "
        f"{medians['app']:.3f} s = {first_ratio:.2f}x (target <= {FIRST_START_RATIO}x)"
    )
    report(
        "startup-first-start",
        first_verdict == "PASS",
        f"{first_ratio:.2f}x a later start ({medians['app-first']:.3f} s)",
        f"<= {FIRST_START_RATIO}x",
    )
    return 0 if verdict == first_verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
