"""Verdict lines, and the summary `make bench` ends with.

Every benchmark prints, last, one line per target it measures (`report`):

    verdict: <target> PASS|FAIL <figure> (target <required>)

for example `verdict: pdf-full-session PASS 0.639 s, 2.4x the plain QPdfWriter baseline (target
< 1 s)`. The target's name is one word, as listed in benchmarks/targets.txt; the figure is free
text.

scripts/bench.sh runs each benchmark, keeps its output (NAME.log) and exit status (NAME.status)
in a folder, then runs `python benchmarks/verdicts.py TARGETS RESULTS`: this prints one table of
every target (its figure, what it must reach, PASS or FAIL, gating or not) and exits 1 when a
gating target failed, else 0. A listed target with no verdict line (its script crashed, stopped
early or was not there) counts as failed; so does every target of a script that exited non-zero
although none of its verdicts said FAIL.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

PREFIX = "verdict: "
_LINE = re.compile(r"^verdict: (\S+) (PASS|FAIL) (.*) \(target (.*)\)$")


def report(target: str, passed: bool, figure: str, required: str) -> None:
    """Print the verdict line of one target (after the benchmark's own lines)."""
    if not target or any(c.isspace() for c in target):
        raise ValueError(f"a target's name is one word: {target!r}")
    line = f"{PREFIX}{target} {'PASS' if passed else 'FAIL'} {figure} (target {required})"
    if parse(line) != Verdict(target, passed, figure, required):
        raise ValueError(f"this verdict would not read back: {line!r}")
    print(line, flush=True)


@dataclass(frozen=True)
class Verdict:
    target: str
    passed: bool
    figure: str
    required: str


def parse(line: str) -> Verdict | None:
    """The verdict on `line`, or None when it is not a verdict line."""
    match = _LINE.match(line.rstrip("\r\n"))
    if match is None:
        return None
    name, status, figure, required = match.groups()
    return Verdict(name, status == "PASS", figure, required)


@dataclass(frozen=True)
class Target:
    script: str
    name: str
    gating: bool


def read_targets(path: Path) -> list[Target]:
    """The rows of a targets file: `script target yes|no`, `#` comments and blank lines skipped."""
    targets: list[Target] = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        words = text.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 3 or words[2] not in ("yes", "no"):
            raise ValueError(f"{path}:{number}: want 'script target yes|no', not {text!r}")
        if any(t.name == words[1] for t in targets):
            raise ValueError(f"{path}:{number}: target {words[1]} is listed twice")
        targets.append(Target(words[0], words[1], words[2] == "yes"))
    return targets


@dataclass(frozen=True)
class Run:
    """What one benchmark script printed and how it exited."""

    script: str
    output: str
    status: int


@dataclass(frozen=True)
class Row:
    target: str
    figure: str
    required: str
    passed: bool
    gating: bool | None  # None: the target is not in the targets file

    @property
    def gating_text(self) -> str:
        return {True: "yes", False: "no", None: "not listed"}[self.gating]


def summarize(targets: list[Target], runs: list[Run]) -> list[Row]:
    """One row per target: every listed one, in the order the scripts ran, then any verdict of
    a target the file does not list (not gating)."""
    rows: list[Row] = []
    ran = {run.script for run in runs}
    listed = {t.name: t for t in targets}
    for run in runs:
        verdicts = [v for v in map(parse, run.output.splitlines()) if v is not None]
        exited = f"{run.script} exited {run.status}"
        # A script that fails without saying which target failed: none of its targets passed.
        unexplained = run.status != 0 and all(v.passed for v in verdicts)
        for target in (t for t in targets if t.script == run.script):
            mine = [v for v in verdicts if v.target == target.name]
            if not mine:
                rows.append(Row(target.name, f"no verdict ({exited})", "", False, target.gating))
                continue
            last = mine[-1]
            figure = last.figure + (f"; but {exited}" if unexplained else "")
            passed = all(v.passed for v in mine) and not unexplained
            rows.append(Row(target.name, figure, last.required, passed, target.gating))
        for verdict in verdicts:
            known = listed.get(verdict.target)
            if known is None or known.script != run.script:
                rows.append(
                    Row(verdict.target, verdict.figure, verdict.required, verdict.passed, None)
                )
        if not verdicts and not any(t.script == run.script for t in targets):
            rows.append(Row(run.script, f"no verdict ({exited})", "", run.status == 0, None))
    for target in targets:
        if target.script not in ran:
            rows.append(Row(target.name, f"not run: no {target.script}", "", False, target.gating))
    return rows


def table(rows: list[Row]) -> list[str]:
    """The summary table's lines, columns aligned."""
    cells = [("target", "figure", "required", "verdict", "gating")]
    cells += [
        (r.target, r.figure, r.required, "PASS" if r.passed else "FAIL", r.gating_text)
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(line[:4], widths, strict=True))
        + "  "
        + line[4]
        for line in cells
    ]


def conclusion(rows: list[Row]) -> tuple[str, int]:
    """The last line of the summary, and the exit status: 1 when a gating target failed."""
    gating = [r for r in rows if r.gating]
    failed_gating = [r.target for r in gating if not r.passed]
    failed_other = [r.target for r in rows if not r.gating and not r.passed]
    other = f"; failed, not gating: {', '.join(failed_other)}" if failed_other else ""
    if failed_gating:
        return (
            f"bench: FAIL: {len(failed_gating)} of {len(gating)} gating targets failed: "
            f"{', '.join(failed_gating)}{other}",
            1,
        )
    return f"bench: every gating target passed ({len(gating)} of {len(gating)}){other}", 0


def read_runs(folder: Path) -> list[Run]:
    """The runs bench.sh kept in `folder`: NAME.status (the exit status) and NAME.log (its
    output) for each script NAME, in the order they ran (NAME.status files are numbered)."""
    runs = []
    for status in sorted(folder.glob("*.status")):
        _order, _, script = status.stem.partition("-")
        log = status.with_suffix(".log")
        output = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        runs.append(Run(script, output, int(status.read_text(encoding="utf-8").strip())))
    return runs


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: verdicts.py TARGETS_FILE RESULTS_FOLDER", file=sys.stderr)
        return 2
    targets_file, results = Path(argv[0]), Path(argv[1])
    try:
        targets = read_targets(targets_file)
    except (OSError, ValueError) as exc:
        print(f"bench: cannot read the targets: {exc}", file=sys.stderr)
        return 2
    rows = summarize(targets, read_runs(results))
    print(f"summary (gating as listed in {targets_file}):")
    for line in table(rows):
        print(f"  {line}")
    last, status = conclusion(rows)
    print(last)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
