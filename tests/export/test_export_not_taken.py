"""A partial check-in says in every export which of the measures it asked for were not taken
(issue 15): the Markdown and plain text's Other column, the PDF's check-in cell, the CSV's
`not_taken` column. Saved through the services on a copy of the demo data, then exported."""

from __future__ import annotations

import csv
import io
import os
import subprocess
from datetime import timedelta
from pathlib import Path

from support.real_tools import require_tool

from kapsession.export.csv_export import observations_csv
from kapsession.export.pdf import to_pdf
from kapsession.export.text import to_markdown, to_plain_text
from kapsession.services.context import AppContext
from kapsession.services.export_content import gather

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before pytest-qt makes the app


def test_a_partial_check_in_names_what_was_not_taken_in_every_export(
    qapp: object, demo_copy: AppContext, tmp_path: Path
) -> None:
    # Given the unsigned demo session, and a late check-in for a slot that asks for BP, saved
    # with its heart rate alone
    context = demo_copy
    session = next(s for s in context.service.sessions.summaries() if s.status != "signed")
    content = gather(context.database, session.id)
    slot = next(c for c in content.protocol.checkins if "bp" in c.required_measures)
    assert content.session.ended_at is not None
    later = content.session.ended_at + timedelta(minutes=20)
    saved = context.service.checkins.save_checkin(
        session.id,
        content.participant.id,
        {"heart_rate_bpm": "88"},
        occurred_at=later,
        recorded_at=later,
        checkin_key=slot.key,
    )
    assert saved.observation is not None and "bp" in saved.observation.not_taken
    after = gather(context.database, session.id)
    # When the session is exported as Markdown, plain text, CSV and PDF
    markdown, plain = to_markdown(after), to_plain_text(after)
    rows = list(csv.DictReader(io.StringIO(observations_csv(after))))
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(to_pdf(after))
    read = subprocess.run(
        [require_tool("pdftotext", "poppler-utils"), "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Then each names the measures not taken, on that reading and no other
    assert "not taken: BP" in markdown and "not taken: BP" in plain
    assert "not taken: BP" in read
    (partial,) = [r for r in rows if r["not_taken"]]
    assert partial["entry_id"] == str(saved.observation.id)
    assert partial["not_taken"].split(";")[0] == "bp"
    assert markdown.count("not taken:") == 1
