"""A very long note in the PDF record: printed in full after the notes' table, every line of
it, a paragraph at a time (painting a page of it never walks the whole note again: the time
is measured by benchmarks/bench_export_pdf_long_note.py, not here). Notes this long can no
longer be entered (domain/entry_text.py), but the record may already hold them."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from kapsession.export.pdf import to_pdf
from kapsession.export.print_record import LONG_NOTE_CHARS
from kapsession.services.export_content import gather

if TYPE_CHECKING:
    from conftest import DemoData

LINES = 2_000


def _text_of(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_long_note_is_printed_in_full_after_the_table_every_line_of_it(
    qapp: object, demo_db: DemoData, tmp_path: Path
) -> None:
    # Given a session whose first note is 2,000 numbered lines (about 180,000 characters) and
    # whose second is one line of 60,000 characters with numbered words
    made = demo_db.unsigned
    content = gather(demo_db.context.service.database, made.id)
    corrected = {n.corrects_id for n in content.notes}
    first, second = [
        n
        for n in content.notes
        if n.kind == "entry" and n.corrects_id is None and n.id not in corrected
    ][:2]
    long_lines = "\n".join(
        f"line{i:05d} breathing slow, hands open, the music like a tide coming in, eyes closed"
        for i in range(LINES)
    )
    one_line = " ".join(f"word{i:05d}" for i in range(6_000))
    assert len(long_lines) > LONG_NOTE_CHARS and len(one_line) > LONG_NOTE_CHARS
    texts = {first.id: long_lines, second.id: one_line}
    notes = [replace(n, text=texts.get(n.id, n.text)) for n in content.notes]
    # When the PDF is made and read back
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(to_pdf(replace(content, notes=notes), page="A4"))
    text = " ".join(_text_of(pdf).split())  # wrapped lines joined
    # Then each note's row says where it is, and each is printed in full, in order
    assert f"A long note ({len(long_lines):,} characters), printed in full after this" in text
    assert f"A long note ({len(one_line):,} characters), printed in full after this" in text
    assert text.count(", in full line00000") == 1 and text.count(", in full word00000") == 1
    # (a paragraph across a page's foot is painted on both pages, clipped, and poppler reads
    # the clipped copy too: each number is taken where it first appears)
    numbers = [int(n) for n in re.findall(r"line(\d{5})", text)]
    assert list(dict.fromkeys(numbers)) == list(range(LINES))
    words = [int(n) for n in re.findall(r"word(\d{5})", text)]
    assert list(dict.fromkeys(words)) == list(range(6_000))
