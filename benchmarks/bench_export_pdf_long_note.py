"""The PDF record of a session holding one very long note (0.1, 1 and 2 MB): how long to_pdf
takes, and whether it grows linearly with the note.

Target (issue 19): a 10 MB note in under 30 s; linearly, the 2 MB note in under 6 s
(`pdf-long-note`, gating), and time(2 MB) / time(0.1 MB) at most 1.5 x 20 = 30
(`pdf-long-note-growth`, reported). With KAPSESSION_BENCH_NOTE_MB=10 the 10 MB note itself is
measured too and both targets are taken on it (under 30 s; growth at most 1.5 x 100). Notes
this long can no longer be entered (at most 100,000 characters: domain/entry_text.py), but a
record may already hold one; before issue 19 the time grew with the square of the note (0.5 MB
5.8 s, 1 MB 20.5 s, 2 MB 29 s reported).

The session is the demo's unsigned one (training data, written through the services), its
first note's text replaced by the long note, lines of about 85 characters; the largest note is
also exported as one line (its line breaks made spaces), and must meet the same target.
Baseline, measured in the same run: the same note as plain paragraphs printed by Qt alone
(QTextDocument.print_ on a QPdfWriter, A4), no code of the app's; the export is reported as a
ratio to it.
"""

from __future__ import annotations

import html
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from verdicts import report

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RUNS = int(os.environ.get("KAPSESSION_BENCH_RUNS", "3"))
# KAPSESSION_BENCH_NOTE_MB=10 adds a note of that size (the 10 MB, about a minute a run
# on the 2-core machine with its baseline); the targets are then taken on it.
EXTRA_MB = float(os.environ.get("KAPSESSION_BENCH_NOTE_MB", "0") or 0)
SIZES_MB = tuple(sorted({0.1, 1.0, 2.0} | ({EXTRA_MB} if EXTRA_MB > 0 else set())))
TARGET_S_PER_MB = 3.0  # 10 MB in 30 s, linearly: 2 MB in 6 s
MAX_GROWTH = 1.5 * SIZES_MB[-1] / SIZES_MB[0]
LINE = "Breathing slow and even; hands open on the blanket; says the music feels like a tide."


def _note(megabytes: float) -> str:
    count = round(megabytes * 1_000_000 / (len(LINE) + 1))
    return "\n".join(f"{LINE} {i}" for i in range(count))


def _content(folder: Path) -> Any:
    from datetime import UTC, datetime

    from kapsession.domain.clock import FakeClock
    from kapsession.paths import resolve_paths
    from kapsession.services.context import open_context
    from kapsession.services.demo import populate
    from kapsession.services.export_content import gather

    now = datetime(2027, 1, 25, 14, 0, tzinfo=UTC)
    paths = resolve_paths(data_dir=folder, training=True, environ={})
    context = open_context(paths, clock=FakeClock(now))
    try:
        made = populate(context.service, now)
        return gather(context.service.database, made[-1].id)
    finally:
        context.close()


def _with_note(content: Any, text: str) -> Any:
    first = next(n for n in content.notes if n.kind == "entry" and n.corrects_id is None)
    notes = [replace(n, text=text) if n.id == first.id else n for n in content.notes]
    return replace(content, notes=notes)


def _baseline(text: str) -> bytes:
    """The note as plain paragraphs, printed by Qt alone."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QPageSize, QPdfWriter, QTextDocument

    document = QTextDocument()
    document.setHtml("".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n")))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(300)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    document.print_(writer)
    del writer  # finishes the PDF
    buffer.close()
    return bytes(data.data())


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    from kapsession.export.pdf import to_pdf

    app = QGuiApplication.instance() or QGuiApplication([])
    with tempfile.TemporaryDirectory() as folder:
        content = _content(Path(folder) / "data")
    notes = {size: _note(size) for size in SIZES_MB}
    times: dict[float, list[float]] = {size: [] for size in SIZES_MB}
    baseline: dict[float, list[float]] = {size: [] for size in SIZES_MB}
    one_line = notes[SIZES_MB[-1]].replace("\n", " ")
    one_line_times: list[float] = []
    for _run in range(RUNS):
        for size in SIZES_MB:  # the sizes in turn, the baseline right after: same load
            changed = _with_note(content, notes[size])
            begin = time.perf_counter()
            to_pdf(changed, page="A4")
            times[size].append(time.perf_counter() - begin)
            begin = time.perf_counter()
            _baseline(notes[size])
            baseline[size].append(time.perf_counter() - begin)
        # the largest note again as one line (a paste without line breaks): cut into pieces
        # by the app, it must cost what the lines cost
        changed = _with_note(content, one_line)
        begin = time.perf_counter()
        to_pdf(changed, page="A4")
        one_line_times.append(time.perf_counter() - begin)
    del app
    median = {size: statistics.median(times[size]) for size in SIZES_MB}
    base = {size: statistics.median(baseline[size]) for size in SIZES_MB}
    print(f"PDF of a session with one long note, median of {RUNS}; baseline: Qt alone")
    for size in SIZES_MB:
        print(
            f"  {size:4.1f} MB  {median[size]:6.2f} s   baseline {base[size]:6.2f} s   "
            f"app/baseline {median[size] / base[size]:4.1f}x"
        )
    largest, smallest = SIZES_MB[-1], SIZES_MB[0]
    as_one_line = statistics.median(one_line_times)
    print(f"  {largest:4.1f} MB  {as_one_line:6.2f} s   as one line (no line breaks)")
    target_s = TARGET_S_PER_MB * largest
    report(
        "pdf-long-note",
        max(median[largest], as_one_line) < target_s,
        f"{median[largest]:.2f} s for {largest:g} MB ({as_one_line:.2f} s as one line), "
        f"{median[largest] / base[largest]:.1f}x the plain QPdfWriter baseline",
        f"< {target_s:g} s",
    )
    growth = median[largest] / median[smallest]
    report(
        "pdf-long-note-growth",
        growth <= MAX_GROWTH,
        f"{largest:g}/{smallest:g} MB {growth:.1f}",
        f"<= {MAX_GROWTH:g}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
