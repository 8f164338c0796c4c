"""Minutes from the first dose are counted one way in every format, the session clock's: a
reading 40 min 30 s before the first dose is T−41 in the Markdown, the PDF record and the REMS
form alike (the PDF and the REMS form used to say T−40 where the Markdown said T−41)."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kapsession.export.content import ExportContent
from kapsession.export.pdf import to_pdf
from kapsession.export.rems import rems_pdf
from kapsession.export.text import to_markdown
from kapsession.export.times import since_dose
from kapsession.services.export_content import gather

if TYPE_CHECKING:
    from conftest import DemoData  # the `demo_db` fixture's value (tests/export/conftest.py)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before pytest-qt makes the app

NOW = datetime(2027, 1, 25, 14, 0, tzinfo=UTC)
DOSE = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "shown"),
    [
        (timedelta(0), "T+0"),
        (timedelta(seconds=59), "T+0"),
        (timedelta(minutes=40, seconds=59), "T+40"),
        (timedelta(seconds=-1), "T−1"),
        (timedelta(minutes=-40), "T−40"),
        (timedelta(minutes=-40, seconds=-30), "T−41"),
    ],
)
def test_minutes_from_the_dose_are_counted_as_the_session_clock_counts_them(
    offset: timedelta, shown: str
) -> None:
    # Given a moment this far from the first dose, when its minutes are written
    # Then they are the whole minutes on the session clock's number line
    assert since_dose(DOSE + offset, DOSE) == shown


def pdf_text(data: bytes, folder: Path, name: str) -> str:
    path = folder / name
    path.write_bytes(data)
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def with_baseline_at(content: ExportContent, at: datetime) -> ExportContent:
    observations = [
        replace(o, occurred_at=at) if o.checkin_key == "baseline" else o
        for o in content.observations
    ]
    return replace(content, observations=observations)


def test_a_reading_before_the_dose_has_the_same_minutes_in_every_format(
    qapp: object, demo_db: DemoData, tmp_path: Path
) -> None:
    # Given the demo esketamine session with its baseline reading 40 min 30 s before the dose
    session = next(s for s in demo_db.sessions if s.protocol == "intranasal-esketamine")
    content = gather(demo_db.context.database, session.id, exported_at=NOW)
    assert content.first_dose_at is not None
    at = content.first_dose_at - timedelta(minutes=40, seconds=30)
    content = with_baseline_at(content, at)
    clock = f"{at.astimezone():%H:%M}"
    # When it is exported as Markdown, as the PDF record and as the REMS form
    markdown = to_markdown(content)
    record = pdf_text(to_pdf(content), tmp_path, "record.pdf")
    form = pdf_text(rems_pdf(content), tmp_path, "rems.pdf")
    # Then every one of them gives the reading as T−41
    in_markdown = re.findall(rf"\| {clock} \| (T\S+) \|", markdown)
    in_record = re.findall(rf"^\s*{clock}\s+(T[−+]\d+)\s", record, re.MULTILINE)
    in_form = re.findall(rf"{clock} \((T[−+]\d+)\)", form)
    assert in_markdown == ["T−41"]
    assert in_record and set(in_record) == {"T−41"}
    assert in_form == ["T−41"]
