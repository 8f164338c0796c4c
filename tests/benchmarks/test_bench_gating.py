"""scripts/bench.sh on stand-in benchmarks: which failures fail `make bench`, and its summary.

bench.sh runs for real (bash, the venv's python, benchmarks/verdicts.py) on a folder in tmp_path
holding fake bench_*.py scripts, which print verdict lines at once or crash, and the folder's
targets.txt, which says which of their targets gate. Nothing is measured.
"""

from __future__ import annotations

import re
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "scripts" / "bench.sh"
BENCHMARKS = REPO / "benchmarks"


@dataclass(frozen=True)
class Outcome:
    status: int
    rows: dict[str, str]  # target -> its line in the summary table
    last_line: str
    output: str

    def verdict(self, target: str) -> str:
        return self._cells(target)[-2]

    def gating(self, target: str) -> str:
        return self._cells(target)[-1]

    def _cells(self, target: str) -> list[str]:
        return re.split(r"\s{2,}", self.rows[target].strip())


def fake_benchmark(folder: Path, name: str, body: str) -> None:
    (folder / f"bench_{name}.py").write_text(textwrap.dedent(body), encoding="utf-8")


def targets_file(folder: Path, rows: str) -> None:
    (folder / "targets.txt").write_text(
        "# script  target  gating\n" + textwrap.dedent(rows), encoding="utf-8"
    )


def run_bench(folder: Path) -> Outcome:
    done = subprocess.run(
        ["bash", str(BENCH), str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.splitlines()
    assert any(line.startswith("summary") for line in lines), done.stdout + done.stderr
    table = lines[[i for i, line in enumerate(lines) if line.startswith("summary")][-1] + 2 : -1]
    rows = {line.split()[0]: line for line in table}
    return Outcome(done.returncode, rows, lines[-1], done.stdout)


def test_a_failed_target_that_does_not_gate_is_reported_but_bench_passes(tmp_path: Path) -> None:
    # Given a gating target that passes, one not gating that fails, and a crashed script whose
    # only target does not gate
    targets_file(
        tmp_path,
        """\
        bench_quick.py   save-time   yes
        bench_slow.py    start-time  no
        bench_broken.py  cpu-ratio   no
        """,
    )
    fake_benchmark(
        tmp_path,
        "quick",
        """\
        print("saving: app 0.30 ms, raw 0.16 ms")
        print("verdict: save-time PASS 1.9x raw sqlite3 (target <= 2x)")
        """,
    )
    fake_benchmark(
        tmp_path,
        "slow",
        """\
        import sys
        print("verdict: start-time FAIL 9.01x a bare window (target <= 1.5x)")
        sys.exit(1)
        """,
    )
    fake_benchmark(tmp_path, "broken", 'raise RuntimeError("libVLC did not start")\n')

    # When bench.sh runs them
    outcome = run_bench(tmp_path)

    # Then it passes, and its summary shows every verdict with its figure and whether it gates
    assert outcome.status == 0, outcome.output
    assert set(outcome.rows) == {"save-time", "start-time", "cpu-ratio"}
    assert (outcome.verdict("save-time"), outcome.gating("save-time")) == ("PASS", "yes")
    assert "1.9x raw sqlite3" in outcome.rows["save-time"]
    assert "<= 2x" in outcome.rows["save-time"]
    assert (outcome.verdict("start-time"), outcome.gating("start-time")) == ("FAIL", "no")
    assert "9.01x a bare window" in outcome.rows["start-time"]
    assert (outcome.verdict("cpu-ratio"), outcome.gating("cpu-ratio")) == ("FAIL", "no")
    assert "no verdict (bench_broken.py exited 1)" in outcome.rows["cpu-ratio"]
    assert outcome.last_line == (
        "bench: every gating target passed (1 of 1); failed, not gating: cpu-ratio, start-time"
    )
    # and each benchmark's own output is shown as it ran
    assert "saving: app 0.30 ms, raw 0.16 ms" in outcome.output


def test_a_failed_gating_target_fails_bench(tmp_path: Path) -> None:
    # Given two gating targets of one benchmark, one of which fails
    targets_file(
        tmp_path,
        """\
        bench_saves.py  checkin-save  yes
        bench_saves.py  note-save     yes
        """,
    )
    fake_benchmark(
        tmp_path,
        "saves",
        """\
        print("verdict: checkin-save PASS 1.98x raw sqlite3 (target <= 2x)")
        print("verdict: note-save FAIL 2.15x raw sqlite3 (target <= 2x)")
        raise SystemExit(1)
        """,
    )

    # When bench.sh runs it
    outcome = run_bench(tmp_path)

    # Then it fails, naming the gating target that failed
    assert outcome.status == 1, outcome.output
    assert outcome.verdict("checkin-save") == "PASS"
    assert outcome.verdict("note-save") == "FAIL"
    assert outcome.last_line == "bench: FAIL: 1 of 2 gating targets failed: note-save"


def test_a_crash_fails_every_target_the_script_should_have_reported(tmp_path: Path) -> None:
    # Given a benchmark with a gating and a non-gating target that crashes before its verdicts
    targets_file(
        tmp_path,
        """\
        bench_music.py  resident-memory  yes
        bench_music.py  music-cpu        no
        """,
    )
    fake_benchmark(
        tmp_path,
        "music",
        """\
        print("music CPU: 1 run of 2 s")
        raise RuntimeError("pulseaudio exited at start")
        """,
    )

    # When bench.sh runs it
    outcome = run_bench(tmp_path)

    # Then both targets count as failed, and the gating one fails bench
    assert outcome.status == 1, outcome.output
    assert (outcome.verdict("resident-memory"), outcome.gating("resident-memory")) == (
        "FAIL",
        "yes",
    )
    assert (outcome.verdict("music-cpu"), outcome.gating("music-cpu")) == ("FAIL", "no")
    assert "no verdict (bench_music.py exited 1)" in outcome.rows["resident-memory"]
    assert outcome.last_line == (
        "bench: FAIL: 1 of 1 gating targets failed: resident-memory; failed, not gating: music-cpu"
    )


def test_a_script_that_exits_non_zero_after_passing_verdicts_fails_them(tmp_path: Path) -> None:
    # Given a benchmark that says PASS, then crashes while it cleans up
    targets_file(tmp_path, "bench_pdf.py  pdf-full-session  yes\n")
    fake_benchmark(
        tmp_path,
        "pdf",
        """\
        print("verdict: pdf-full-session PASS 0.639 s (target < 1 s)")
        raise OSError("cannot remove the temporary folder")
        """,
    )

    # When bench.sh runs it
    outcome = run_bench(tmp_path)

    # Then its verdict is not trusted
    assert outcome.status == 1, outcome.output
    assert outcome.verdict("pdf-full-session") == "FAIL"
    assert "0.639 s; but bench_pdf.py exited 1" in outcome.rows["pdf-full-session"]


def test_a_listed_benchmark_that_is_missing_fails_its_gating_target(tmp_path: Path) -> None:
    # Given a targets file naming a benchmark the folder does not have
    targets_file(
        tmp_path,
        """\
        bench_here.py     fast-target     yes
        bench_history.py  client-history  yes
        """,
    )
    fake_benchmark(tmp_path, "here", 'print("verdict: fast-target PASS 3 ms (target < 5 ms)")\n')

    # When bench.sh runs the folder
    outcome = run_bench(tmp_path)

    # Then the missing benchmark's target is reported as not run, and fails bench
    assert outcome.status == 1, outcome.output
    assert outcome.verdict("client-history") == "FAIL"
    assert "not run: no bench_history.py" in outcome.rows["client-history"]


def test_the_gating_list_in_the_readme_is_the_one_bench_reads() -> None:
    # Given the targets file bench.sh reads and the gating table of benchmarks/README.md
    listed = {
        tuple(line.split("#")[0].split())
        for line in (BENCHMARKS / "targets.txt").read_text(encoding="utf-8").splitlines()
        if line.split("#")[0].strip()
    }
    readme = (BENCHMARKS / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What gates `make bench`", 1)[1].split("\n## ", 1)[0]
    documented = {
        (cells[1].strip("` "), cells[0].strip("` "), cells[3].strip())
        for line in section.splitlines()
        if line.startswith("| `")
        for cells in [line.strip("|").split("|")]
    }

    # Then they list the same targets, scripts and gating
    assert documented == listed


def test_every_listed_target_has_a_verdict_in_its_benchmark() -> None:
    # Given each row of the real targets file
    for line in (BENCHMARKS / "targets.txt").read_text(encoding="utf-8").splitlines():
        words = line.split("#")[0].split()
        if not words:
            continue
        script, target, _gating = words
        # Then its benchmark exists and reports that target by name
        source = (BENCHMARKS / script).read_text(encoding="utf-8")
        assert "from verdicts import report" in source, f"{script} prints no verdict lines"
        assert f'"{target}"' in source, f"{script} never names {target}"
