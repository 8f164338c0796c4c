"""The Markdown and plain-text record read back: every value of the demo sessions is in it,
corrections show with their reasons, DRAFT only for an unsigned session, private notes only
when included, nothing of another participant, and staff's text survives exactly."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from kapsession.domain.protocol import Anchor
from kapsession.export.content import ExportContent
from kapsession.export.text import to_markdown, to_plain_text
from kapsession.services.context import AppContext
from kapsession.services.export_content import gather
from kapsession.storage.entries import EntryRepository
from kapsession.storage.notes import NoteRepository

TZ = timezone(timedelta(hours=-5))  # not the machine's zone: times must be converted
EXPORTED_AT = datetime(2027, 2, 1, 9, 30, tzinfo=UTC)
Render = Callable[..., str]
FORMATS = [pytest.param(to_markdown, id="markdown"), pytest.param(to_plain_text, id="plain")]
# (demo session index, participant index): every demo session, both sides of the couple
SESSIONS = [(0, 0), (1, 0), (2, 0), (3, 0), (3, 1), (4, 0), (5, 0), (6, 0)]
TRICKY = (
    "Pipe | inside and a tab\tthere\n"
    "Zweite Zeile 🌿🫶 — שלום עולם, مرحبا (RTL)\n"
    "# not a heading\n"
    "```\n"
    "<b>not html</b> & *not emphasis*\n"
    "---"
)


def _content(context: AppContext, session_id: Any, participant: str | None = None, **kw: Any):
    return gather(context.service.database, session_id, participant=participant, **kw)


def _demo_content(demo_db: Any, index: int, who: int, **kw: Any) -> ExportContent:
    made = demo_db.sessions[index]
    participant = made.participants[who] if len(made.participants) > 1 else None
    return _content(demo_db.context, made.id, participant, exported_at=EXPORTED_AT, **kw)


def hm(at: datetime, day: datetime) -> str:
    """A time as the record shows it: local HH:MM, with the date when not the session's day."""
    here = at.astimezone(TZ)
    same = here.date() == day.astimezone(TZ).date()
    return f"{here:%H:%M}" if same else f"{here:%Y-%m-%d %H:%M}"


def md_tables(md: str) -> list[list[list[str]]]:
    """Every Markdown table: rows of cells, `\\|` and `<br>` turned back into text."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*md.split("\n"), ""]:
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)\|", line)
            assert cells[0] == "" and cells[-1] == "", f"row not closed: {line!r}"
            current.append([_unescape_cell(c.strip()) for c in cells[1:-1]])
        elif current:
            tables.append(current)
            current = []
    return tables


def _unescape_cell(cell: str) -> str:
    return re.sub(r"\\([|<\[\]@:.\\])", r"\1", cell.replace("<br>", "\n"))


def md_table(md: str, first_headers: tuple[str, ...]) -> list[dict[str, str]]:
    """The table whose header starts with `first_headers`, as dicts by header."""
    for table in md_tables(md):
        if tuple(table[0][: len(first_headers)]) == first_headers:
            assert set(table[1]) == {"---"}
            return [dict(zip(table[0], row, strict=True)) for row in table[2:]]
    raise AssertionError(f"no table {first_headers}")


def md_unescape(md: str) -> str:
    """Markdown back to the text it shows: hard breaks and our backslash escapes undone."""
    return re.sub(r"\\([#`~=\-*_<|\[\]@:.\\])", r"\1", md.replace("  \n", "\n"))


def _values_of_reading(values: dict[str, Any]) -> dict[str, str]:
    """What the vitals table must show for a reading, by column."""
    expected = {}
    if values["systolic_mmhg"] is not None:
        expected["BP (mmHg)"] = f"{values['systolic_mmhg']}/{values['diastolic_mmhg']}"
    for key, column in (
        ("heart_rate_bpm", "HR (/min)"),
        ("spo2_pct", "SpO2 (%)"),
        ("resp_rate_per_min", "RR (/min)"),
        ("temperature_c", "Temp (°C)"),
        ("moaas", "MOAA/S"),
    ):
        if values[key] is not None:
            expected[column] = f"{values[key]:g}"
    return expected


@pytest.mark.parametrize(("index", "who"), SESSIONS)
def test_every_dose_reading_alert_and_discharge_is_in_the_markdown_tables(
    demo_db: Any, index: int, who: int
) -> None:
    # Given a demo session exported for one participant
    content = _demo_content(demo_db, index, who)
    day = content.session.started_at
    assert day is not None
    # When it is written as Markdown
    md = to_markdown(content, tz=TZ)
    # Then every dose is a row with its time, amount, lot and who gave it
    doses = md_table(md, ("Time", "Kind", "Medication"))
    assert len(doses) == len(content.doses) >= 1
    for dose, row in zip(content.doses, doses, strict=True):
        assert row["Time"] == hm(dose.occurred_at, day)
        assert float(row["Dose (mg)"]) == dose.dose_mg
        assert row["Lot"] == dose.lot_number and row["Route"] == dose.route
        assert row["Given by"] == content.staff_name(dose.given_by_id) != ""
    # And every reading is a row with each of its values in its column
    readings = md_table(md, ("Time", "T+", "Check-in"))
    assert len(readings) == len(content.observations)
    for observation, row in zip(content.observations, readings, strict=True):
        assert row["Time"] == hm(observation.occurred_at, day)
        spec = content.protocol.checkin(observation.checkin_key or "")
        assert row["Check-in"] == spec.label
        if spec.at.anchor is Anchor.DOSE:  # the demo is up to 2 minutes late
            assert row["T+"] in {f"T+{spec.at.minutes + m:g}" for m in (0, 1, 2)}
        for column, value in _values_of_reading(observation.values).items():
            assert row[column] == value, (column, observation.values)
    # And every alert, with its acknowledgement and comment
    if content.alerts:
        alerts = md_table(md, ("Time", "T+", "Alert"))
        for alert, row in zip(content.alerts, alerts, strict=True):
            assert row["Alert"] == alert.message
            assert alert.acknowledged_at is not None
            assert row["Acknowledged"] == (
                f"{hm(alert.acknowledged_at, day)} by "
                f"{content.staff_name(alert.acknowledged_by_id)}"
            )
            assert row["Comment"] == alert.acknowledgement_comment
    else:
        assert "No alerts." in md
    # And the discharge check with its Aldrete total and the minute the client was ready
    (discharge,) = content.discharges
    assert f"total {discharge.aldrete_total} of 10" in md
    assert f"at {discharge.ready_minutes_after_first_dose} minutes after the first dose" in md


@pytest.mark.parametrize("render", FORMATS)
@pytest.mark.parametrize(("index", "who"), SESSIONS)
def test_every_marker_note_track_and_signature_is_in_the_text(
    demo_db: Any, index: int, who: int, render: Render
) -> None:
    # Given a demo session
    content = _demo_content(demo_db, index, who)
    # When it is rendered
    text = render(content, tz=TZ)
    shown = md_unescape(text) if render is to_markdown else text
    # Then every marker, note entry, section of the session note, addendum and track is in it
    markers = [e.label for e in content.events if e.kind == "marker"]
    assert markers
    for label in markers:
        assert f"Marker: {label}" in shown
    for note in content.note_entries + content.addenda:
        assert note.text in shown
    note = content.session_note
    assert note is not None or content.draft
    for _key, title, body in note.sections if note else ():
        assert title in shown and body in shown
    tracks = {m.track_title for m in content.music if m.track_title}
    assert len(tracks) >= 3
    for title in tracks:
        assert title in shown
    # And the phases, the client's details, the staff, and every signature with its meaning
    for item in content.timeline:
        if item.title.startswith("Phase: "):
            assert item.title in shown
    assert content.client_name in shown
    assert content.participant.client.record_number in shown
    assert "Dr. Ruth Adeyemi, PsyD" in shown and "Tom Becker, RN" in shown
    for signature in content.signatures:
        assert signature.signer_name in shown and signature.meaning in shown
    # And the footer says when and from where it was exported
    assert "2027-02-01 04:30" in shown and "from kapsession" in shown


@pytest.mark.parametrize("render", FORMATS)
def test_an_unsigned_session_says_draft_and_a_signed_one_does_not(
    demo_db: Any, render: Render
) -> None:
    # Given the unsigned and a signed demo session
    unsigned = _content(demo_db.context, demo_db.unsigned.id)
    signed = _content(demo_db.context, demo_db.first.id)
    assert unsigned.draft and not signed.draft
    # When both are rendered
    draft_text, signed_text = render(unsigned, tz=TZ), render(signed, tz=TZ)
    # Then the draft says so in its title, above everything, and in the footer
    first_lines = draft_text.split("\n")[:3]
    assert any("DRAFT" in line for line in first_lines[:1])
    assert "DRAFT — this session is not signed" in draft_text
    assert draft_text.rstrip().endswith("DRAFT, not signed.")
    # And the signed record never does
    assert "DRAFT" not in signed_text and "Record status: signed" in md_unescape(
        signed_text
    ).replace("**", "")


@pytest.mark.parametrize("render", FORMATS)
def test_private_notes_only_when_included(demo_db: Any, render: Render) -> None:
    # Given a session with a private (psychotherapy) note
    session_id = demo_db.first.id
    private = "My own grief stirred at the lake image; bring to supervision."
    # When it is exported as usual
    default = render(_content(demo_db.context, session_id), tz=TZ)
    # Then the private note and its heading are not in it
    assert private not in default and "sychotherapy notes" not in default
    # When the private notes are included
    included = render(_content(demo_db.context, session_id, include_private=True), tz=TZ)
    # Then the note is there, after a heading that says they are kept apart from the record
    heading = included.casefold().find("psychotherapy notes — private, kept apart from the record")
    assert heading > 0 and included.find(private) > heading


@pytest.mark.parametrize("render", FORMATS)
@pytest.mark.parametrize("who", [0, 1])
def test_a_couples_export_holds_nothing_of_the_other_participant(
    demo_db: Any, who: int, render: Render
) -> None:
    # Given the couples session, exported for one participant
    couple = demo_db.couples
    mine = _content(demo_db.context, couple.id, couple.participants[who], include_private=True)
    theirs = _content(demo_db.context, couple.id, couple.participants[1 - who])
    assert mine.others_redacted
    # When it is rendered
    text = render(mine, tz=TZ)
    # Then none of the other's names, record number or ids is in it
    for word in mine.others_redacted:
        assert word.casefold() not in text.casefold(), word
    for rows in (theirs.doses, theirs.observations, theirs.discharges, theirs.alerts):
        for row in rows:
            assert str(row.id) not in text
    # And none of their blood pressures or their lot, where they differ from the chosen one's
    my_bps = {
        f"{o.values['systolic_mmhg']}/{o.values['diastolic_mmhg']}" for o in mine.observations
    }
    their_bps = {
        f"{o.values['systolic_mmhg']}/{o.values['diastolic_mmhg']}"
        for o in theirs.observations
        if o.has_bp
    }
    assert their_bps - my_bps
    for bp in their_bps - my_bps:
        assert bp not in text
    my_lots = {d.lot_number for d in mine.doses}
    for dose in theirs.doses:
        if dose.lot_number not in my_lots:
            assert str(dose.lot_number) not in text
    # And their dose is not in the doses (the chosen one's is)
    if render is to_markdown:
        amounts = [row["Dose (mg)"] for row in md_table(text, ("Time", "Kind", "Medication"))]
        assert amounts == [f"{d.dose_mg:g}" for d in mine.doses]


def test_corrections_show_the_original_with_the_reason(demo_copy: AppContext) -> None:
    # Given the unsigned session with a corrected reading, a withdrawn one, a corrected dose
    # and an amended note
    context = demo_copy
    session = next(s for s in context.service.sessions.summaries() if s.status != "signed")
    content = _content(context, session.id)
    ended = content.session.ended_at
    assert ended is not None
    later = ended + timedelta(minutes=30)
    checkins = context.service.checkins
    t40 = next(o for o in content.observations if o.checkin_key == "t40")
    t15 = next(o for o in content.observations if o.checkin_key == "t15")
    corrected = checkins.correct_checkin(
        t40.id,
        {"bp": "178/98", "heart_rate_bpm": "80", "comment": "cuff | too small\nre-measured"},
        reason="Cuff too small | re-measured with the large cuff",
        recorded_at=later,
    )
    assert corrected.saved, corrected.problems
    checkins.void_checkin(t15.id, reason="Entered for the wrong client", recorded_at=later, by=None)
    (dose,) = content.doses
    checkins.correct_dose(dose.id, reason="Lot misread", lot_number="SPR-9999Z", recorded_at=later)
    first_note = content.note_entries[0]
    NoteRepository(context.service.database).amend_entry(
        first_note.id,
        "Intention (amended): kindness toward the grief.",
        reason="Wording",
        recorded_at=later,
    )
    # When it is exported
    after = _content(context, session.id)
    md, plain = to_markdown(after, tz=TZ), to_plain_text(after, tz=TZ)
    day = after.session.started_at
    assert day is not None
    # Then the corrected reading is kept, marked amended with the reason, beside its correction
    rows = md_table(md, ("Time", "T+", "Check-in"))
    t40_rows = [r for r in rows if r["Check-in"] == "REMS BP at 40 minutes"]
    assert [r["BP (mmHg)"] for r in t40_rows] == ["185/102", "178/98"]
    assert t40_rows[0]["Record"] == "amended — Cuff too small | re-measured with the large cuff"
    assert t40_rows[1]["Record"].startswith(
        f"correction of the entry of {hm(t40.occurred_at, day)}"
    )
    assert "“cuff | too small\nre-measured”" in t40_rows[1]["Other"]
    # And the withdrawn one is there with its reason, never silently gone
    (t15_row,) = [r for r in rows if r["Check-in"] == "T+15"]
    assert t15_row["Record"] == "withdrawn — Entered for the wrong client"
    # And both lots of the dose, the first marked amended
    doses = md_table(md, ("Time", "Kind", "Medication"))
    assert [(r["Lot"], r["Record"].split(";")[0]) for r in doses] == [
        ("SPR-5521A", "amended — Lot misread"),
        ("SPR-9999Z", f"correction of the entry of {hm(dose.occurred_at, day)} — Lot misread"),
    ]
    # And the note keeps its first wording, marked, with the amendment after it
    for text in (md_unescape(md), plain):
        assert first_note.text in text and "Intention (amended): kindness" in text
        assert "amended — Wording" in text
        assert "[withdrawn — Entered for the wrong client]" in text  # in the timeline
    # And every table still has one column count
    for table in md_tables(md):
        assert len({len(row) for row in table}) == 1


def test_text_with_pipes_newlines_emoji_and_rtl_survives(demo_copy: AppContext) -> None:
    # Given a note with a pipe, line breaks, emoji, right-to-left text and Markdown syntax
    context = demo_copy
    session = next(s for s in context.service.sessions.summaries() if s.status != "signed")
    content = _content(context, session.id)
    assert content.session.ended_at is not None
    at = content.session.ended_at - timedelta(minutes=5)
    NoteRepository(context.service.database).add_entry(
        session.id, TRICKY, occurred_at=at, recorded_at=at
    )
    EntryRepository(context.service.database).add_event(
        session.id, "marker", label="Hand | held 🤝", occurred_at=at, recorded_at=at
    )
    after = _content(context, session.id)
    # When it is rendered
    md, plain = to_markdown(after, tz=TZ), to_plain_text(after, tz=TZ)
    # Then the plain text holds it exactly
    assert TRICKY in plain and "Marker: Hand | held 🤝" in plain
    # And the Markdown shows it exactly, without it turning into a heading, code or HTML
    assert TRICKY in md_unescape(md)
    lines = md.split("\n")
    assert "\\# not a heading  " in lines  # escaped, and a hard break keeps the line
    assert not any(line.startswith("# not") for line in lines)
    assert not any(line.startswith("```") for line in lines)
    assert "\\<b>not html\\</b> & *not emphasis*  " in lines
    assert "- " + hm(at, content.session.started_at or at) in md
    # And the marker with a pipe stays one list line, the pipe escaped (no table is made)
    assert any(line.endswith("Marker: Hand \\| held 🤝") for line in lines)
    for table in md_tables(md):
        assert len({len(row) for row in table}) == 1


@pytest.mark.parametrize(("index", "who"), SESSIONS)
def test_markdown_tables_have_one_column_count(demo_db: Any, index: int, who: int) -> None:
    # Given any demo session as Markdown
    md = to_markdown(_demo_content(demo_db, index, who, include_private=True), tz=TZ)
    # Then every table (doses, readings, alerts, signatures) has a delimiter row and every
    # row has as many cells as the header
    tables = md_tables(md)
    assert len(tables) >= 3
    for table in tables:
        assert set(table[1]) == {"---"}
        assert {len(row) for row in table} == {len(table[0])}


@pytest.mark.parametrize(("index", "who"), SESSIONS)
def test_plain_text_has_no_markdown(demo_db: Any, index: int, who: int) -> None:
    # Given any demo session as plain text for the EHR
    plain = to_plain_text(_demo_content(demo_db, index, who, include_private=True), tz=TZ)
    # Then no line is Markdown structure and nothing is escaped
    for line in plain.split("\n"):
        assert not line.startswith(("#", "|", "> ", "- **", "---")), line
    assert "**" not in plain and "\\" not in plain and "<br>" not in plain


def test_times_are_local_with_the_session_date_once(demo_db: Any) -> None:
    # Given a signed session whose signatures and addendum follow it
    content = _content(demo_db.context, demo_db.first.id)
    start = content.session.started_at
    assert start is not None
    # When it is rendered in a zone five hours behind UTC
    plain = to_plain_text(content, tz=TZ)
    # Then the session's date is written once, and times are local
    day = start.astimezone(TZ).date().isoformat()
    assert plain.count(day) == 1
    assert f"Session date: {day}" in plain and "local time (UTC-05:00)" in plain
    dose = content.doses[0].occurred_at
    assert f"{dose.astimezone(TZ):%H:%M} — Kind: initial" in plain
    # And the next day's addendum carries its own date
    (addendum,) = content.addenda
    assert addendum.recorded_at.astimezone(TZ).date().isoformat() in plain


@pytest.mark.parametrize("render", FORMATS)
def test_free_text_naming_the_other_participant_is_redacted(demo_db: Any, render: Render) -> None:
    # Given Lena's export of the couples session where a correction reason, a reading's
    # comment and a discharge override name Jonah (free text the content does not redact)
    couple = demo_db.couples
    mine = _content(demo_db.context, couple.id, couple.participants[1])
    full = next(w for w in mine.others_redacted if " " in w)
    number = next(w for w in mine.others_redacted if w.startswith("DEMO-"))
    reading, dose = mine.observations[0], mine.doses[0]
    later = timedelta(minutes=20)
    fixed = replace(
        reading,
        id=uuid.uuid4(),
        corrects_id=reading.id,
        correction_reason=f"This was {full}'s reading ({number})",
        values={**reading.values, "comment": f"{full.split()[0]} held her hand"},
        recorded_at=reading.recorded_at + later,
    )
    relotted = replace(
        dose,
        id=uuid.uuid4(),
        corrects_id=dose.id,
        correction_reason=f"lot of {full.split()[0]}'s dose",
        recorded_at=dose.recorded_at + later,
    )
    left = replace(mine.discharges[0], override_reason=f"{full} drove her home")
    changed = replace(
        mine,
        observations=[*mine.observations, fixed],
        doses=[*mine.doses, relotted],
        discharges=[left],
    )
    # When it is rendered
    text = render(changed, tz=TZ)
    if render is to_markdown:
        text = md_unescape(text)  # as it shows
    # Then the reasons are there, with the other participant's name and number left out
    assert "This was [another participant]'s reading ([another participant])" in text
    assert "[another participant] drove her home" in text
    for word in mine.others_redacted:
        assert word.casefold() not in text.casefold(), word
