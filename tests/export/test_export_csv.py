"""The CSV exports read back with the csv module: every reading and every timeline item
round-trips (numbers, times, text), every row says draft or signed, private notes only when
included, nothing of another participant, and any note text survives."""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapsession.domain.vitals import READING_FIELDS
from kapsession.export.content import ExportContent
from kapsession.export.csv_export import (
    EVENT_COLUMNS,
    OBSERVATION_COLUMNS,
    csv_files,
    events_csv,
    observations_csv,
)
from kapsession.records.session_log import LogKind
from kapsession.services.context import AppContext
from kapsession.services.export_content import gather
from kapsession.storage.notes import NoteRepository

SESSIONS = [(0, 0), (1, 0), (2, 0), (3, 0), (3, 1), (4, 0), (5, 0), (6, 0)]
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
FLOAT_FIELDS = {"temperature_c"}
TRICKY = 'Pipe | inside, "quoted", a comma\nZweite Zeile 🌿 — שלום עולם\r\nend;'


def _content(context: AppContext, session_id: Any, participant: str | None = None, **kw: Any):
    return gather(context.service.database, session_id, participant=participant, **kw)


def _demo_content(demo_db: Any, index: int, who: int, **kw: Any) -> ExportContent:
    made = demo_db.sessions[index]
    participant = made.participants[who] if len(made.participants) > 1 else None
    return _content(demo_db.context, made.id, participant, **kw)


def parse(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    assert reader.fieldnames is not None
    return list(reader.fieldnames), rows


def parse_time(text: str) -> datetime:
    assert ISO_UTC.match(text), text
    at = datetime.fromisoformat(text)
    assert at.utcoffset() == timedelta(0)
    return at


def to_second(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(microsecond=0)


def parse_reading_value(name: str, text: str) -> Any:
    """A Reading field read back from its cell."""
    if text == "":
        return "" if name == "comment" else None
    if name == "comment":
        return text
    if name == "emesis":
        return {"true": True, "false": False}[text]
    return float(text) if name in FLOAT_FIELDS else int(text)


def optional_number(text: str, kind: type[Any]) -> Any:
    return None if text == "" else kind(text)


@pytest.mark.parametrize(("index", "who"), SESSIONS)
def test_every_reading_round_trips(demo_db: Any, index: int, who: int) -> None:
    # Given a demo session
    content = _demo_content(demo_db, index, who)
    # When its readings are written as CSV and read back with the csv module
    header, rows = parse(observations_csv(content))
    # Then the header names each value with its unit, and there is a row per reading
    assert header == list(OBSERVATION_COLUMNS)
    assert {"systolic_mmhg", "diastolic_mmhg", "spo2_pct", "temperature_c"} <= set(header)
    assert len(rows) == len(content.observations) >= 5
    by_id = {o.id: o for o in content.observations}
    first_dose = content.first_dose_at
    assert first_dose is not None
    for row in rows:
        record = by_id[uuid.UUID(row["entry_id"])]
        # And every value reads back as it was stored
        for name in READING_FIELDS:
            assert parse_reading_value(name, row[name]) == record.values[name], name
        assert parse_time(row["occurred_at"]) == to_second(record.occurred_at)
        assert parse_time(row["recorded_at"]) == to_second(record.recorded_at)
        since_s = int(row["since_first_dose_s"])
        assert abs(since_s - (record.occurred_at - first_dose).total_seconds()) <= 0.5
        assert row["participant_id"] == str(content.participant.id)
        assert row["session_id"] == str(content.session.id)
        assert row["checkin_key"] == record.checkin_key
        assert row["checkin_label"] == content.protocol.checkin(record.checkin_key or "").label
        assert row["on_room_air"] == {True: "true", False: "false", None: ""}[record.on_room_air]
        assert row["recorded_by"] == content.staff_name(record.recorded_by_id) == "Tom Becker, RN"
        assert (row["state"], row["corrects_id"], row["voids"]) == ("standing", "", "false")
        assert row["record_status"] == ("draft" if content.draft else "signed")


@pytest.mark.parametrize(("index", "who"), SESSIONS)
def test_every_timeline_item_round_trips(demo_db: Any, index: int, who: int) -> None:
    # Given a demo session with its private notes included
    content = _demo_content(demo_db, index, who, include_private=True)
    # When its events are written as CSV and read back
    header, rows = parse(events_csv(content))
    assert header == list(EVENT_COLUMNS)
    # Then every item of the timeline is a row, in order, with its text exactly
    timeline_rows = [r for r in rows if r["kind"] not in ("private_note", "order")]
    # (the prescriber's order is a row of its own, with the order's columns, issue 16: the
    # demo gives every session one; it is on the timeline too, as one row, not two)
    order_ids = {o.id for o in content.orders}
    listed = [i for i in content.timeline if i.entry_id not in order_ids]
    assert len(timeline_rows) == len(listed) > 50
    orders = [r for r in rows if r["kind"] == "order"]
    assert [r["entry_id"] for r in orders] == [str(o.id) for o in content.orders] != []
    on_timeline = {str(i.entry_id) for i in content.timeline if i.entry_id in order_ids}
    assert on_timeline == {r["entry_id"] for r in orders}
    events = {e.id: e for e in content.events}
    for item, row in zip(listed, timeline_rows, strict=True):
        assert (row["kind"], row["title"]) == (item.kind.value, item.title)
        if row["detail"] != item.detail:  # a hold-dose event adds its message to the detail
            source = events[item.entry_id]
            assert (
                row["detail"].startswith(item.detail) and source.detail["message"] in row["detail"]
            )
        reason = item.reason or ""
        if item.corrects and not reason:  # a correction row gives its own reason (the demo's
            # adverse event, updated when it resolved: issue 16)
            (update,) = [a for a in content.adverse_events if a.id == item.entry_id]
            reason = update.correction_reason or ""
        assert (row["state"], row["reason"]) == (item.state.value, reason)
        assert parse_time(row["occurred_at"]) == to_second(item.at)
        assert parse_time(row["recorded_at"]) == to_second(item.recorded_at)
        assert row["participant_id"] == (
            "" if item.participant_id is None else str(item.participant_id)
        )
        if item.entry_id is not None:
            assert row["entry_id"] == str(item.entry_id)
        else:  # an acknowledgement names the alert it acknowledges
            assert item.kind is LogKind.ALERT and row["event_type"] == "acknowledgement"
            assert uuid.UUID(row["entry_id"]) in {a.id for a in content.alerts}
    # And the values the titles leave out are in their own columns: every dose ...
    by_id = {r["entry_id"]: r for r in timeline_rows if r["event_type"] != "acknowledgement"}
    for dose in content.doses:
        row = by_id[str(dose.id)]
        assert optional_number(row["dose_mg"], float) == dose.dose_mg
        assert (row["medication"], row["route"], row["lot_number"]) == (
            dose.medication,
            dose.route,
            dose.lot_number,
        )
        assert optional_number(row["device_count"], int) == dose.device_count
        assert optional_number(row["weight_kg"], float) == dose.weight_kg
        assert optional_number(row["dose_mg_per_kg"], float) == dose.dose_mg_per_kg
        assert row["staff"] == content.staff_name(dose.given_by_id)
    # ... every music event, with its track, playlist, position and volume ...
    assert content.music
    for music in content.music:
        row = by_id[str(music.id)]
        assert row["event_type"] == music.kind
        assert row["track_title"] == (music.track_title or "")
        assert row["playlist"] == (music.playlist or "")
        assert optional_number(row["position_ms"], int) == music.position_ms
        assert optional_number(row["volume_pct"], float) == music.volume_pct
    # ... the discharge's Aldrete total and ready time
    (discharge,) = content.discharges
    (left,) = [r for r in timeline_rows if r["kind"] == "discharge"]
    assert int(left["aldrete_total"]) == discharge.aldrete_total
    assert int(left["ready_minutes_after_first_dose"]) == discharge.ready_minutes_after_first_dose
    # And the private notes are rows of their own kind, with their text
    assert content.private_notes is not None
    private = [r for r in rows if r["kind"] == "private_note"]
    assert [r["detail"] for r in private] == [n.text for n in content.private_notes]
    assert all(parse_time(r["occurred_at"]) for r in private)


@pytest.mark.parametrize(("index", "expected"), [(0, "signed"), (6, "draft")])
def test_every_row_says_whether_the_record_is_signed(
    demo_db: Any, index: int, expected: str
) -> None:
    # Given a signed and the unsigned session
    content = _demo_content(demo_db, index, 0)
    # When both files are read back
    for text in (observations_csv(content), events_csv(content)):
        _header, rows = parse(text)
        # Then every row carries the record's status (CSV has no room for a banner)
        assert rows and {r["record_status"] for r in rows} == {expected}


def test_private_notes_are_left_out_unless_included(demo_db: Any) -> None:
    # Given a session with a private note, exported as usual
    content = _demo_content(demo_db, 0, 0)
    private = "My own grief stirred at the lake image; bring to supervision."
    # When its CSV files are written
    texts = observations_csv(content) + events_csv(content)
    # Then the note is in neither, and no row is a private note
    assert private not in texts and "private_note" not in texts


@pytest.mark.parametrize("who", [0, 1])
def test_a_couples_export_holds_nothing_of_the_other_participant(demo_db: Any, who: int) -> None:
    # Given the couples session exported for one participant, and the other's own export
    mine = _demo_content(demo_db, 3, who, include_private=True)
    theirs = _demo_content(demo_db, 3, 1 - who)
    assert mine.others_redacted
    # When both CSV files are written
    files = {"observations": observations_csv(mine), "events": events_csv(mine)}
    for name, text in files.items():
        # Then neither holds the other's names, record number or ids
        for word in mine.others_redacted:
            assert word.casefold() not in text.casefold(), (name, word)
        for rows in (theirs.doses, theirs.observations, theirs.discharges, theirs.alerts):
            for row in rows:
                assert str(row.id) not in text, name
        # And every row is the chosen participant's or the room's
        _header, rows = parse(text)
        assert {r["participant_id"] for r in rows} <= {str(mine.participant.id), ""}
    # And none of the other's readings is among the observations
    _header, readings = parse(files["observations"])
    mine_ids = {str(o.id) for o in mine.observations}
    assert {r["entry_id"] for r in readings} == mine_ids


def test_corrections_round_trip_with_their_reasons(demo_copy: AppContext) -> None:
    # Given the unsigned session with a corrected reading (its comment with a pipe and a line
    # break) and a withdrawn one
    context = demo_copy
    session = next(s for s in context.service.sessions.summaries() if s.status != "signed")
    content = _content(context, session.id)
    assert content.session.ended_at is not None
    later = content.session.ended_at + timedelta(minutes=30)
    t40 = next(o for o in content.observations if o.checkin_key == "t40")
    t15 = next(o for o in content.observations if o.checkin_key == "t15")
    checkins = context.service.checkins
    comment = 'cuff | too small, "large"\nre-measured'
    saved = checkins.correct_checkin(
        t40.id, {"bp": "178/98", "comment": comment}, reason="Cuff, too small", recorded_at=later
    )
    assert saved.observation is not None
    checkins.void_checkin(t15.id, reason="Wrong client", recorded_at=later, by=None)
    after = _content(context, session.id)
    # When the readings are read back
    _header, rows = parse(observations_csv(after))
    by_id = {r["entry_id"]: r for r in rows}
    # Then the originals stay, with their state, and each correction points at its original
    assert len(rows) == len(content.observations) + 2
    assert by_id[str(t40.id)]["state"] == "amended"
    fixed = by_id[str(saved.observation.id)]
    assert (fixed["corrects_id"], fixed["correction_reason"]) == (str(t40.id), "Cuff, too small")
    assert (fixed["systolic_mmhg"], fixed["diastolic_mmhg"], fixed["comment"]) == (
        "178",
        "98",
        comment,
    )
    assert (fixed["voids"], fixed["late_entry"], fixed["state"]) == ("false", "true", "standing")
    assert by_id[str(t15.id)]["state"] == "withdrawn"
    (void,) = [r for r in rows if r["voids"] == "true"]
    assert (void["corrects_id"], void["correction_reason"]) == (str(t15.id), "Wrong client")
    # And the events say the same: the original amended with the reason, the correction's own
    _header, events = parse(events_csv(after))
    checkin_rows = {r["entry_id"]: r for r in events if r["kind"] == "checkin"}
    assert (checkin_rows[str(t40.id)]["state"], checkin_rows[str(t40.id)]["reason"]) == (
        "amended",
        "Cuff, too small",
    )
    correction = checkin_rows[str(saved.observation.id)]
    assert (correction["is_correction"], correction["reason"]) == ("true", "Cuff, too small")
    assert checkin_rows[str(t15.id)]["state"] == "withdrawn"


def test_a_note_with_quotes_pipes_newlines_emoji_and_rtl_round_trips(demo_copy: AppContext) -> None:
    # Given a note with a pipe, quotes, a comma, line breaks (\n and \r\n), emoji and RTL
    context = demo_copy
    session = next(s for s in context.service.sessions.summaries() if s.status != "signed")
    ended = context.service.sessions.get(session.id).ended_at
    assert ended is not None
    note = NoteRepository(context.service.database).add_entry(
        session.id, TRICKY, occurred_at=ended, recorded_at=ended
    )
    # When the events are read back
    _header, rows = parse(events_csv(_content(context, session.id)))
    # Then the note's text is exactly as written
    (row,) = [r for r in rows if r["entry_id"] == str(note.id)]
    assert row["detail"] == TRICKY and row["event_type"] == "entry"


@pytest.fixture(scope="module")
def unsigned_content(demo_db: Any) -> ExportContent:
    return _demo_content(demo_db, 6, 0)


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_any_note_text_round_trips_through_the_events_csv(
    unsigned_content: ExportContent, text: str
) -> None:
    # Given a session whose first note says anything at all
    content = unsigned_content
    index = next(i for i, item in enumerate(content.timeline) if item.kind is LogKind.NOTE)
    item = content.timeline[index]
    timeline = list(content.timeline)
    timeline[index] = replace(item, detail=text)
    notes = [replace(n, text=text) if n.id == item.entry_id else n for n in content.notes]
    changed = replace(content, timeline=timeline, notes=notes)
    # When the events are written and read back
    _header, rows = parse(events_csv(changed))
    # Then that note's row holds exactly the text, after a quote if it starts as a formula
    (row,) = [r for r in rows if r["entry_id"] == str(item.entry_id)]
    assert row["detail"] == (f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text)


@pytest.mark.parametrize(
    ("out", "observations", "events"),
    [
        ("report.csv", "report-observations.csv", "report-events.csv"),
        ("report", "report-observations.csv", "report-events.csv"),
        ("Report.CSV", "Report-observations.csv", "Report-events.csv"),
        (
            "2027-01-22 Reyes, Sam - session 2.csv",
            "2027-01-22 Reyes, Sam - session 2-observations.csv",
            "2027-01-22 Reyes, Sam - session 2-events.csv",
        ),
        ("notes.v2", "notes.v2-observations.csv", "notes.v2-events.csv"),
    ],
)
def test_out_names_the_two_files_beside_it(
    unsigned_content: ExportContent, tmp_path: Path, out: str, observations: str, events: str
) -> None:
    # Given `--out PATH` for a CSV export
    files = csv_files(unsigned_content, tmp_path / out)
    # Then there are two files beside it, named for what they hold, with the two tables
    assert list(files) == [tmp_path / observations, tmp_path / events]
    texts = list(files.values())
    assert texts == [observations_csv(unsigned_content), events_csv(unsigned_content)]


def test_free_text_naming_the_other_participant_is_redacted(demo_db: Any) -> None:
    # Given Lena's export of the couples session where a correction reason, a comment and a
    # hold-dose override name Jonah (free text the content does not redact)
    mine = _demo_content(demo_db, 3, 1)
    full = next(w for w in mine.others_redacted if " " in w)
    reading = mine.observations[0]
    fixed = replace(
        reading,
        id=uuid.uuid4(),
        corrects_id=reading.id,
        correction_reason=f"This was {full}'s reading",
        values={**reading.values, "comment": f"{full} held her hand"},
    )
    event = replace(
        next(e for e in mine.events if e.kind == "marker"),
        id=uuid.uuid4(),
        kind="hold_dose_override",
        label="Dosed despite the hold-dose check",
        detail={"message": f"BP high; {full} agreed", "reason": "asked", "staff": "Dr. Moreau"},
    )
    item = replace(
        next(i for i in mine.timeline if i.kind is LogKind.MARKER),
        kind=LogKind.DOSE,
        title=event.label,
        entry_id=event.id,
    )
    changed = replace(
        mine,
        observations=[*mine.observations, fixed],
        events=[*mine.events, event],
        timeline=[*mine.timeline, item],
    )
    # When both files are written
    texts = observations_csv(changed) + events_csv(changed)
    # Then the text is there with the other participant's name left out
    assert "This was [another participant]'s reading" in texts
    assert "BP high; [another participant] agreed; asked; authorised by Dr. Moreau" in texts
    for word in mine.others_redacted:
        assert word.casefold() not in texts.casefold(), word
