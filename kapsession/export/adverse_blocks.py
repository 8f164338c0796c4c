"""The record's adverse events, interventions and controlled-substance counts as sections of the
document model (issue 16), one set of blocks for the printed record (PDF) and the note for the
EHR (Markdown and plain text).

Every version is listed as the rest of the record lists entries: an updated adverse event (it
resolved later) stands beside its earlier version, struck, with the reason; a withdrawn entry
is struck with its reason. An intervention names the adverse event it was given for; a count
names its dose and the witness of a waste.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kapsession.domain.corrections import EntryState, Version, versions
from kapsession.export.document import Cell, Column, Paragraph, Row, Section, Table
from kapsession.export.record_rows import RecordRows, number_text
from kapsession.records.adverse import standing_of


def _state(item: Version[Any]) -> str:
    why = item.reason or "no reason given"
    if item.state is EntryState.AMENDED:
        return f"updated later — {why}"
    if item.state is EntryState.WITHDRAWN:
        return f"withdrawn — {why}"
    if item.corrects:
        return f"update — {item.correction_reason or 'no reason given'}"
    return ""


def _cell(text: str) -> Cell:
    return Cell((text,))


def _table(columns: Sequence[Column], rows: Sequence[Row]) -> Table:
    return Table(tuple(columns), tuple(rows), 2)


def adverse_sections(rows: RecordRows) -> list[Section]:
    """ "Adverse events and interventions" and "Controlled substance", each only when the
    participant has one."""
    return [s for s in (_adverse(rows), _substance(rows)) if s is not None]


def _hm(rows: RecordRows, at: datetime | None) -> str:
    return "" if at is None else rows.times.hm(at)


def _adverse(rows: RecordRows) -> Section | None:
    c = rows.content
    if not c.adverse_events and not c.interventions:
        return None
    scrub = rows.scrub
    blocks = []
    if c.adverse_events:
        table_rows = []
        for item in versions(sorted(c.adverse_events, key=lambda a: a.recorded_at)):
            a = item.row
            alert = next((x for x in c.alerts if x.id == a.alert_id), None)
            detail = "; ".join(
                p
                for p in (
                    f"after the alert {alert.message}" if alert else "",
                    scrub(a.actions),
                    f"recorded by {rows.staff_name(a.recorded_by_id)}" if a.recorded_by_id else "",
                    scrub(_state(item)),
                )
                if p
            )
            table_rows.append(
                Row(
                    (
                        _cell(_hm(rows, a.occurred_at)),
                        _cell(rows.times.since_dose(a.occurred_at)),
                        _cell(scrub(a.title)),
                        _cell(a.grading),
                        _cell(_hm(rows, a.resolved_at) or "—"),
                        _cell(detail),
                    ),
                    item.state,
                )
            )
        columns = (
            Column("Onset", 8),
            Column("T+", 8),
            Column("Adverse event", 18),
            Column("Severity · seriousness · outcome", 22),
            Column("Resolved", 9),
            Column("Details"),
        )
        blocks.append(_table(columns, table_rows))
    if c.interventions:
        given_rows = []
        for given in versions(sorted(c.interventions, key=lambda i: i.recorded_at)):
            i = given.row
            event = standing_of(c.adverse_events, i.adverse_event_id)
            detail = "; ".join(
                p
                for p in (
                    f"lot {i.lot_number}" if i.lot_number else "",
                    scrub(i.text),
                    f"for {scrub(event.title)} ({_hm(rows, event.occurred_at)})" if event else "",
                    scrub(_state(given)),
                )
                if p
            )
            given_rows.append(
                Row(
                    (
                        _cell(_hm(rows, i.occurred_at)),
                        _cell(rows.times.since_dose(i.occurred_at)),
                        _cell(i.title),
                        _cell(rows.staff_name(i.given_by_id) or "—"),
                        _cell(detail),
                    ),
                    given.state,
                )
            )
        given_columns = (
            Column("Time", 8),
            Column("T+", 8),
            Column("Intervention", 30),
            Column("Given by", 18),
            Column("Details"),
        )
        blocks.append(_table(given_columns, given_rows))
    return Section("Adverse events and interventions", tuple(blocks))


def _substance(rows: RecordRows) -> Section | None:
    c = rows.content
    if not c.substance_counts:
        return None
    table_rows = []
    for item in versions(sorted(c.substance_counts, key=lambda s: s.recorded_at)):
        s = item.row
        dose = standing_of(c.doses, s.dose_id)
        dose_text = (
            f"{s.medication or 'dose'} {number_text(dose.dose_mg)} mg at "
            f"{_hm(rows, dose.occurred_at)}"
            if dose is not None and dose.dose_mg is not None
            else "dose (corrected or withdrawn since)"
        )
        witness = rows.staff_name(s.witness_id) if s.witness_id else ""
        table_rows.append(
            Row(
                (
                    _cell(_hm(rows, s.occurred_at)),
                    _cell(dose_text),
                    _cell(f"{number_text(s.drawn_mg)} mg"),
                    _cell(f"{number_text(s.given_mg)} mg"),
                    _cell(f"{number_text(s.wasted_mg)} mg"),
                    _cell(witness or ("—" if s.wasted_mg <= 0 else "not recorded")),
                    _cell("; ".join(p for p in (rows.scrub(s.comment), _state(item)) if p)),
                ),
                item.state,
            )
        )
    columns = (
        Column("Recorded", 9),
        Column("Dose", 22),
        Column("Drawn", 9),
        Column("Given", 9),
        Column("Wasted", 9),
        Column("Waste witnessed by", 18),
        Column("Notes"),
    )
    intro = Paragraph(
        ("Ketamine and esketamine are Schedule III: every mg drawn or dispensed is given or "
         "wasted, a waste witnessed by a second staff member (their PIN).",)
    )  # fmt: skip
    return Section("Controlled substance", (intro, _table(columns, table_rows)))
