"""The PDF record read back with poppler: what it says (pdftotext), that every page renders
(pdftoppm), its page size (pdfinfo), its chart (pdfimages), and the scope rules: DRAFT only
for an unsigned session, private notes only when chosen, nobody else's data in a couples
session's document, corrections shown with their reasons."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from support.team import team

from kapsession.domain.timeline import compute_timeline
from kapsession.export.content import ExportContent, ExportRefused
from kapsession.export.pdf import print_ready, to_pdf
from kapsession.services.context import AppContext
from kapsession.services.export_content import gather
from kapsession.storage.notes import NoteRepository

if TYPE_CHECKING:
    from conftest import DemoData  # the `demo_db` fixture's value (tests/export/conftest.py)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before pytest-qt makes the app

CLINIC = "Stillwater Ketamine Clinic"
NOW = datetime(2027, 1, 25, 14, 0, tzinfo=UTC)  # the export's time: after every demo session


# --- reading a PDF back -------------------------------------------------------------------------


def poppler(tool: str, *args: str) -> str:
    done = subprocess.run([tool, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{tool} failed: {done.stderr}"
    return done.stdout


def write_pdf(data: bytes, folder: Path, name: str = "record.pdf") -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def text_of(pdf: Path, page: int | None = None) -> str:
    pages = [] if page is None else ["-f", str(page), "-l", str(page)]
    return poppler("pdftotext", "-layout", *pages, str(pdf), "-")


def page_count(pdf: Path) -> int:
    info = poppler("pdfinfo", str(pdf))
    return int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])


def chart_of(content: ExportContent) -> Callable[[int, int], Any]:
    """The chart the UI draws for this content (the screen's palette: the PDF turns it to ink
    on white), made here the way the UI's export does."""
    from kapsession.ui.vitals_chart import render_chart_image

    session = content.session
    started = session.started_at or session.created_at
    state = compute_timeline(
        content.protocol,
        started_at=started,
        now=session.ended_at or NOW,
        first_dose_at=content.first_dose_at,
        done_checkins={o.checkin_key for o in content.standing_observations if o.checkin_key},
        ended_at=session.ended_at,
    )

    def draw(width_px: int, height_px: int) -> Any:
        return render_chart_image(
            width_px,
            height_px,
            state,
            content.standing_observations,
            content.standing_doses,
            content.observations,
            scale=3.0,
        )

    return draw


def content_of(demo: DemoData, which: str, **options: Any) -> ExportContent:
    session = {"first": demo.first, "unsigned": demo.unsigned}[which]
    return gather(demo.context.database, session.id, exported_at=NOW, **options)


# --- what the record says -----------------------------------------------------------------------


@pytest.mark.parametrize("which", ["first", "unsigned"])
@pytest.mark.parametrize("with_chart", [True, False], ids=["chart", "no-chart"])
def test_the_pdf_holds_the_record(
    qapp: object, demo_db: DemoData, tmp_path: Path, which: str, with_chart: bool
) -> None:
    # Given a demo session gathered for export
    content = content_of(demo_db, which)
    # When it is printed to PDF
    chart = chart_of(content) if with_chart else None
    pdf = write_pdf(to_pdf(content, chart=chart, clinic=CLINIC), tmp_path)
    text = text_of(pdf)
    flat = " ".join(text.split())
    # Then it names the client, the clinic, every dose and every blood pressure recorded
    assert content.client_name in text
    assert CLINIC.upper() in text
    for dose in content.standing_doses:
        assert dose.dose_mg is not None and f"Dose {dose.dose_mg:g} mg" in text
        assert dose.lot_number and dose.lot_number in text
    for reading in content.standing_observations:
        if reading.has_bp:
            assert f"{reading.values['systolic_mmhg']}/{reading.values['diastolic_mmhg']}" in text
    # every alert and the staff who signed or acknowledged
    for alert in content.alerts:
        assert alert.message in flat
    for signature in content.signatures:
        assert signature.signer_name in flat
    # the session note by section, and the notes written during the session
    note = content.session_note
    if note is not None:
        for _key, title, body in note.sections:
            assert title in text
            first_line = body.strip().splitlines()[0] if body.strip() else ""
            assert " ".join(first_line.split()) in flat
    for entry in content.note_entries:
        assert " ".join(entry.text.split()[:5]) in flat
    for addendum in content.addenda:
        assert addendum.text in flat
    # and page numbers with the confidentiality note on every page
    pages = page_count(pdf)
    for page in range(1, pages + 1):
        on_page = text_of(pdf, page)
        assert f"Page {page} of {pages}" in on_page
        assert "Confidential" in on_page


def test_the_timeline_lists_the_music_played(
    qapp: object, demo_db: DemoData, tmp_path: Path
) -> None:
    # Given a session with music, when it is printed
    content = content_of(demo_db, "first")
    flat = " ".join(text_of(write_pdf(to_pdf(content), tmp_path)).split())
    # Then every track that started is named, and the phases are on the timeline
    titles = {m.track_title for m in content.music if m.kind == "track_start" and m.track_title}
    assert titles
    for title in titles:
        assert title in flat
    assert "Music played" in flat and "Phase: Peak" in flat


@pytest.mark.parametrize(("which", "draft"), [("first", False), ("unsigned", True)])
def test_draft_on_every_page_only_for_the_unsigned_session(
    qapp: object, demo_db: DemoData, tmp_path: Path, which: str, draft: bool
) -> None:
    # Given a signed and an unsigned session
    content = content_of(demo_db, which)
    assert content.draft is draft
    # When each is printed
    pdf = write_pdf(to_pdf(content, chart=chart_of(content)), tmp_path)
    # Then DRAFT is on every page of the unsigned one and nowhere in the signed one
    for page in range(1, page_count(pdf) + 1):
        assert ("DRAFT" in text_of(pdf, page)) is draft


@pytest.mark.parametrize("include", [False, True], ids=["left-out", "included"])
def test_private_notes_only_when_included_on_their_own_page(
    qapp: object, demo_db: DemoData, tmp_path: Path, include: bool
) -> None:
    # Given the session's private (psychotherapy) note
    private = NoteRepository(demo_db.context.database).private_notes(demo_db.first.id)
    assert private
    secret = private[0].text
    # When the record is printed with or without the private notes
    content = content_of(demo_db, "first", include_private=include)
    pdf = write_pdf(to_pdf(content), tmp_path)
    flat = " ".join(text_of(pdf).split())
    # Then the note is there only when chosen, on a page of its own headed as such
    assert (secret in flat) is include
    assert ("Psychotherapy notes" in flat) is include
    if include:
        last = " ".join(text_of(pdf, page_count(pdf)).split())
        assert "Psychotherapy notes (private)" in last and secret in last
        assert "Signatures and addenda" not in last


def test_a_couples_document_holds_nobody_elses_data(
    qapp: object, demo_db: DemoData, tmp_path: Path
) -> None:
    for participant in demo_db.couples.participants:
        # Given one participant's share of the couples session
        content = gather(
            demo_db.context.database, demo_db.couples.id, participant=participant, exported_at=NOW
        )
        assert content.others_redacted
        # When it is printed, chart and private notes included
        pdf = to_pdf(content, chart=chart_of(content), clinic=CLINIC)
        text = text_of(write_pdf(pdf, tmp_path, f"{participant}.pdf")).casefold()
        # Then it is theirs and holds none of the other participant's identifiers
        assert participant.casefold() in text
        leaked = [word for word in content.others_redacted if word.casefold() in text]
        assert not leaked, f"{participant}'s PDF names {leaked}"


def test_corrections_are_shown_with_their_reasons(
    qapp: object, demo_db: DemoData, demo_copy: AppContext, tmp_path: Path
) -> None:
    # Given the unsigned session with a corrected lot number and a withdrawn note
    session_id = demo_db.unsigned.id
    before = gather(demo_copy.database, session_id)
    dose = before.standing_doses[0]
    corrected = demo_copy.service.checkins.correct_dose(
        dose.id,
        reason="Lot misread from the box",
        recorded_at=NOW,
        lot_number="SPR-7777Z",
    )
    assert corrected.dose is not None
    note = before.note_entries[0]
    NoteRepository(demo_copy.database).amend_entry(
        note.id, None, reason="Written on the wrong client", recorded_at=NOW, voids=True
    )
    # When the record is printed
    content = gather(demo_copy.database, session_id, exported_at=NOW + timedelta(minutes=1))
    flat = " ".join(text_of(write_pdf(to_pdf(content), tmp_path)).split())
    # Then the original stays, marked with the reason, beside the correction
    assert dose.lot_number and dose.lot_number in flat and "SPR-7777Z" in flat
    assert "Amended" in flat and "Lot misread from the box" in flat
    assert " ".join(note.text.split()[:5]) in flat
    assert "Withdrawn" in flat and "Written on the wrong client" in flat


# --- pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "size"), [("A4", "595 x 842 pts (A4)"), ("Letter", "612 x 792 pts (letter)")]
)
def test_a4_and_letter_render_on_every_page(
    qapp: object, demo_db: DemoData, tmp_path: Path, page: str, size: str
) -> None:
    # Given the unsigned session (DRAFT marks, chart, alert) printed on A4 or US Letter
    content = content_of(demo_db, "unsigned", include_private=True)
    pdf = write_pdf(to_pdf(content, page=page, chart=chart_of(content)), tmp_path)
    # Then pdfinfo reports the paper size
    assert size in poppler("pdfinfo", str(pdf))
    # and pdftoppm renders every page without an error
    pages = page_count(pdf)
    done = subprocess.run(
        ["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages and all(p.stat().st_size > 1000 for p in images)


@pytest.mark.parametrize("with_chart", [True, False], ids=["chart", "no-chart"])
def test_the_chart_is_printed_when_given(
    qapp: object, demo_db: DemoData, tmp_path: Path, with_chart: bool
) -> None:
    # Given the record printed with or without the chart callback
    content = content_of(demo_db, "first")
    chart = chart_of(content) if with_chart else None
    pdf = write_pdf(to_pdf(content, chart=chart), tmp_path)
    # Then the PDF holds one image at print resolution, or none
    listing = poppler("pdfimages", "-list", str(pdf)).splitlines()[2:]
    assert len(listing) == (1 if with_chart else 0)
    if with_chart:
        columns = listing[0].split()
        x_ppi, y_ppi = int(columns[12]), int(columns[13])
        assert x_ppi >= 290 and y_ppi >= 290


def test_an_unknown_page_size_is_refused(qapp: object, demo_db: DemoData) -> None:
    content = content_of(demo_db, "first")
    with pytest.raises(ExportRefused, match='"A4" or "Letter"'):
        to_pdf(content, page="A5")


@pytest.mark.parametrize(
    ("background", "changed"), [("#1b1e21", True), ("#ffffff", False)], ids=["dark", "light"]
)
def test_a_dark_chart_is_turned_to_ink_on_white(
    qapp: object, background: str, changed: bool
) -> None:
    from PySide6.QtGui import QColor, QImage

    # Given a chart image drawn on a dark (room theme) or a white background with a light mark
    image = QImage(40, 20, QImage.Format.Format_ARGB32)
    image.fill(QColor(background))
    for x in range(10, 30):
        image.setPixelColor(x, 10, QColor("#cbb89b"))
    # When it is made ready for print
    ready = print_ready(image)
    # Then a dark one gets a white background and a dark mark; a light one is left alone
    corner, mark = ready.pixelColor(0, 0), ready.pixelColor(15, 10)
    if changed:
        assert corner.lightness() == 255
        assert mark.lightness() < 128
    else:
        assert corner == QColor(background) and mark == QColor("#cbb89b")


def test_a_session_just_started_prints_with_nothing_to_show(
    qapp: object, demo_db: DemoData, demo_copy: AppContext, tmp_path: Path
) -> None:
    # Given a session started a minute ago: no dose, reading, note, music or signature yet
    client = next(c for c in demo_copy.service.clients.search("DEMO-0001"))
    record = demo_copy.service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[client.id],
        modality="individual",
        at=NOW,
        **team(demo_copy.service, NOW),
    )
    content = gather(demo_copy.database, record.id, exported_at=NOW + timedelta(minutes=1))
    # When it is printed, chart included
    pdf = write_pdf(to_pdf(content, chart=chart_of(content)), tmp_path)
    flat = " ".join(text_of(pdf).split())
    # Then every section says plainly that there is nothing yet, and it is a draft
    for empty in (
        "No dose was recorded.",
        "No vital signs were recorded.",
        "No discharge check was recorded.",
        "The session note has not been written yet.",
        "No music was played.",
    ):
        assert empty in flat
    assert "DRAFT" in flat and "Page 1 of" in flat
