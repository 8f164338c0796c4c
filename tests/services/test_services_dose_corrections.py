"""A dose corrected is checked as a new dose is, and a deviation goes with its entry (issue 16).

A correction records what was actually given, so it is never refused for being outside the
order or the protocol's limits; outside them it needs the prescriber's override, recorded with
it as a new dose's is (the version's detail, a `dose_override` event with its audit row). A dose
or a discharge withdrawn as entered in error takes its deviation with it: withdrawn in the same
transaction, so the event list, the exports' timeline, the CSV and the REMS form's deviations
no longer count it. Every prescriber's override is titled a protocol deviation."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from services_support import ALL_YES, FULL_ALDRETE, START, Room, minutes, run_until
from sqlalchemy import select
from support.team import usual_prescriber

from kapsession.domain.corrections import EntryState
from kapsession.domain.discharge import DischargeOverride
from kapsession.domain.dose_order import BOOSTER_OUTSIDE, PrescriberOverride
from kapsession.export.csv_export import events_csv
from kapsession.export.rems import rems_data
from kapsession.export.text import to_markdown
from kapsession.records.sessions import SessionRecord
from kapsession.services.export_content import gather
from kapsession.services.live_session import LiveSession
from kapsession.services.session_log import SessionLog
from kapsession.storage import schema

CALM = {"bp": "124/78", "heart_rate_bpm": "72", "spo2_pct": "98", "resp_rate_per_min": "14"}
WHY = "Only 150 mg drawn up"
ESKETAMINE = "intranasal-esketamine"  # the REMS form's sessions


def dosed(room: Room, record: SessionRecord, dose: str = "200 mg") -> LiveSession:
    """The session open, the baseline taken, the dose given at minute 40."""
    live, _signals = room.open_live(record.id)
    pid = record.participants[0].id
    assert live.save_checkin(pid, CALM, checkin_key="baseline") is not None
    run_until(live, room.clock, START + minutes(40))
    prescriber = usual_prescriber(room.service, room.clock.now())
    override = PrescriberOverride(prescriber.id, prescriber.signature_name, "Tolerated before")
    given = live.record_dose(pid, dose, order_override=override)
    assert given is not None and given.saved, given
    return live


def override(room: Room, reason: str = WHY) -> PrescriberOverride:
    prescriber = usual_prescriber(room.service, room.clock.now())
    return PrescriberOverride(prescriber.id, prescriber.signature_name, reason)


def rems_deviations(room: Room, record: SessionRecord) -> tuple[str, ...]:
    return rems_data(gather(room.context.database, record.id)).deviations


def csv_rows(room: Room, record: SessionRecord) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(events_csv(gather(room.context.database, record.id)))))


def test_a_dose_corrected_outside_the_order_needs_the_prescribers_override(room: Room) -> None:
    # Given 200 mg given as ordered
    record = room.start()
    live = dosed(room, record)
    (dose,) = live.doses
    run_until(live, room.clock, START + minutes(45))
    # When it is corrected to 150 mg without the prescriber
    refused = live.correct_dose(dose.id, "150 given", dose_text="150 mg")
    # Then nothing is saved: the correction needs the prescriber's override, saying why
    assert refused is not None and not refused.saved and refused.needs_order_override
    assert refused.order_check is not None
    assert [d.rule for d in refused.order_check.deviations] == ["order_dose"]
    assert live.doses == [dose] and room.events(record.id, "dose_override") == []
    # When the override is by someone who may not prescribe, Then it is refused too
    nurse = PrescriberOverride(room.nurse.id, "Ruth Okafor, RN", WHY)
    assert live.correct_dose(dose.id, "150 given", dose_text="150 mg", order_override=nurse) is None
    assert live.doses == [dose]
    # When the prescriber overrides
    by_prescriber = override(room)
    saved = live.correct_dose(
        dose.id, "150 given", dose_text="150 mg", order_override=by_prescriber
    )
    # Then the correction is saved with the override, as a new dose is
    assert saved is not None and saved.saved and saved.dose is not None
    assert saved.dose.dose_mg == 150.0
    assert saved.dose.detail["order_override"]["reason"] == WHY
    (event,) = [
        e
        for e in live.events
        if e.kind == "dose_override" and e.detail["dose_id"] == str(saved.dose.id)
    ]
    assert [d["rule"] for d in event.detail["deviations"]] == ["order_dose"]
    with room.context.database.rows() as rows:
        audited = rows.execute(
            select(schema.audit_entry.c.action).where(
                schema.audit_entry.c.entity_id == str(event.id)
            )
        ).all()
    assert [a.action for a in audited] == ["event.dose_override"]
    # And the live state is what a fresh read gives
    fresh = room.service.read_state(record.id)
    assert live._state.events.all == fresh.events.all
    assert live._state.doses.all == fresh.doses.all


def test_a_dose_corrected_into_the_order_or_only_its_lot_needs_no_override(room: Room) -> None:
    # Given 250 mg given on the prescriber's override (the order is 200 mg)
    record = room.start()
    live = dosed(room, record, "250 mg")
    (dose,) = live.doses
    run_until(live, room.clock, START + minutes(45))
    # When only its lot is corrected, Then it is saved as it is, no new override asked
    lot = live.correct_dose(dose.id, "Lot misread", lot_number="SL-1")
    assert lot is not None and lot.saved and lot.dose is not None, lot
    # When the amount is corrected to the order's 200 mg, Then it is saved without one
    amount = live.correct_dose(lot.dose.id, "200 given", dose_text="200 mg")
    assert amount is not None and amount.saved and amount.events == (), amount
    assert [d.dose_mg for d in live.doses] == [200.0]


def test_a_booster_corrected_to_a_time_outside_the_window_is_never_refused(room: Room) -> None:
    # Given the dose at minute 40 and its booster at T+35, then the client discharged
    record = room.start()
    live = dosed(room, record)
    pid = record.participants[0].id
    run_until(live, room.clock, START + minutes(75))
    assert live.save_checkin(pid, CALM) is not None
    booster = live.record_dose(pid, "100 mg")
    assert booster is not None and booster.saved and booster.dose is not None, booster
    run_until(live, room.clock, START + minutes(200))
    assert live.save_checkin(pid, CALM, checkin_key="pre-discharge") is not None
    assert live.record_discharge(pid, FULL_ALDRETE, ALL_YES) is not None
    # When the booster's time is corrected to T+20 (before the protocol's window opened)
    when = booster.dose.occurred_at - minutes(15)
    asked = live.correct_dose(booster.dose.id, "Given earlier", occurred_at=when)
    # Then it is not refused (not for the window, nor for the discharge since): the prescriber
    # overrides the window, as the order's
    assert asked is not None and asked.needs_order_override and not asked.problems, asked
    assert asked.order_check is not None
    rules = [d.rule for d in asked.order_check.deviations]
    assert rules == [BOOSTER_OUTSIDE, "order_booster_window"]
    by_prescriber = override(room)
    saved = live.correct_dose(
        booster.dose.id, "Given earlier", occurred_at=when, order_override=by_prescriber
    )
    assert saved is not None and saved.saved and saved.dose is not None
    assert saved.dose.occurred_at == when


def test_a_dose_withdrawn_takes_its_deviation_with_it_everywhere(room: Room) -> None:
    # Given esketamine 84 mg given on the prescriber's override (the order is 56 mg)
    record = room.start(protocol_key=ESKETAMINE)
    live = dosed(room, record, "84 mg")
    (dose,) = live.doses
    (deviation,) = room.events(record.id, "dose_override")
    before = to_markdown(gather(room.context.database, record.id))
    assert "dose outside the order, overridden by" in before
    assert any("Tolerated before" in d for d in rems_deviations(room, record))
    run_until(live, room.clock, START + minutes(45))
    # When the dose is withdrawn as entered in error
    assert live.withdraw_dose(dose.id, "Wrong client")
    # Then its deviation is withdrawn with it, with the reason, in the same save
    assert room.events(record.id, "dose_override") == []
    history = room.service.entries.events(record.id, include_history=True)
    (withdrawal,) = [e for e in history if e.corrects_id == deviation.id]
    assert (
        withdrawal.voids and withdrawal.correction_reason == "Withdrawn with its dose: Wrong client"
    )
    # And the live state is what a fresh read gives
    fresh = room.service.read_state(record.id)
    assert live._state.events.all == fresh.events.all
    assert live._state.events.standing == fresh.events.standing
    # And the event list shows the deviation withdrawn beside its dose
    names = {s.id: s.signature_name for s in room.service.staff.all()}
    items = {i.entry_id: i for i in SessionLog(room.context.database).items(record, names)}
    assert items[deviation.id].state is EntryState.WITHDRAWN
    assert items[deviation.id].title.startswith("Protocol deviation: ")
    assert items[dose.id].state is EntryState.WITHDRAWN
    # And the exports count it no more: the REMS deviations, the order section; the CSV
    # keeps its row, withdrawn
    content = gather(room.context.database, record.id)
    assert not any("Tolerated before" in d for d in rems_data(content).deviations)
    assert "dose outside the order, overridden by" not in to_markdown(content)
    (row,) = [r for r in csv_rows(room, record) if r["entry_id"] == str(deviation.id)]
    assert (row["state"], row["event_type"]) == ("withdrawn", "protocol_deviation:dose_override")


def test_a_discharge_withdrawn_takes_its_deviation_with_it(room: Room) -> None:
    # Given an esketamine client discharged 45 minutes after the dose, on the prescriber's
    # override: a protocol deviation
    record = room.start(protocol_key=ESKETAMINE)
    live = dosed(room, record, "56 mg")
    pid = record.participants[0].id
    prescriber = usual_prescriber(room.service, room.clock.now())
    run_until(live, room.clock, START + minutes(85))
    assert live.save_checkin(pid, CALM) is not None
    decided = DischargeOverride(
        "Fetched by family", prescriber.signature_name, prescriber_id=prescriber.id
    )
    checklist = {item.key: True for item in live.protocol.discharge.checklist}
    result = live.record_discharge(pid, FULL_ALDRETE, checklist, override=decided)
    assert result is not None and result.event is not None and len(result.deviations) == 1
    (deviation,) = result.deviations
    assert deviation.detail["discharge_id"] == str(result.event.id)
    assert any("Fetched by family" in d for d in rems_deviations(room, record))
    # When the discharge is withdrawn as entered in error
    room.service.entries.correct_event(
        result.event.id, reason="Still in the room", recorded_at=room.clock.now(), voids=True
    )
    # Then its deviation is withdrawn with it
    assert room.events(record.id, "discharge_deviation") == []
    names = {s.id: s.signature_name for s in room.service.staff.all()}
    items = {i.entry_id: i for i in SessionLog(room.context.database).items(record, names)}
    assert (items[deviation.id].state, items[deviation.id].reason) == (
        EntryState.WITHDRAWN,
        "Withdrawn with its discharge: Still in the room",
    )
    # And the REMS form lists no deviation for it, nor the discharge's override
    content = gather(room.context.database, record.id)
    assert not any("Fetched by family" in d for d in rems_data(content).deviations)
    (row,) = [r for r in csv_rows(room, record) if r["entry_id"] == str(deviation.id)]
    assert row["state"] == "withdrawn"


def test_a_session_without_an_order_lists_each_dose_given_on_the_override(room: Room) -> None:
    # Given an esketamine session without an order, its dose given on the prescriber's override
    record = room.start(protocol_key=ESKETAMINE, order=None)
    dosed(room, record, "56 mg")
    content = gather(room.context.database, record.id)
    # Then the order section says each dose needed the override, and lists it
    markdown = to_markdown(content)
    section = markdown.split("## Prescriber's order", 1)[1].split("\n## ", 1)[0]
    assert "No order recorded: each dose needed the prescriber's override" in section
    assert "dose outside the order, overridden by Jun Park, MD: Tolerated before" in section
    assert "checked against the protocol's limits" not in markdown
    # And the override is a protocol deviation in the REMS form and the CSV, never an
    # adverse event
    data = rems_data(content)
    assert any("Tolerated before" in d for d in data.deviations)
    assert not any("Tolerated before" in a for a in data.adverse_events)
    types = {r["event_type"] for r in csv_rows(room, record)}
    assert "protocol_deviation:dose_override" in types and "dose_override" not in types


def test_an_order_correction_keeps_its_history_when_no_order_stands(room: Room) -> None:
    # Given the usual order, withdrawn by the prescriber as entered in error
    record = room.start()
    live, _signals = room.open_live(record.id)
    order = live.orders[0]
    prescriber = usual_prescriber(room.service, room.clock.now())
    assert live.correct_order(order.id, "Other client", prescriber_id=prescriber.id, voids=True)
    # Then the order section says no order stands, and what was taken back
    markdown = to_markdown(gather(room.context.database, record.id))
    section = markdown.split("## Prescriber's order", 1)[1].split("\n## ", 1)[0]
    assert "No order recorded, and no dose given." in section
    assert "Order taken back at" in section and "Other client" in section
    assert replace(order.order, verbal=False).summary() in section
