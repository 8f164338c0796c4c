"""The session's team in the use cases: who may take which place, handovers during the session,
whose name each entry carries, the PIN that switches the person at the keyboard, and signing by
role, on a real data folder."""

from __future__ import annotations

import pytest
from services_support import ALL_YES, FULL_ALDRETE, START, Room, minutes
from support.signing import PASSPHRASE, give_passphrase

from kapsession.domain.roles import TeamRole
from kapsession.records.errors import NotAllowed, StorageError
from kapsession.records.notes import SessionNoteText
from kapsession.records.session_log import LogKind
from kapsession.services.demo import populate
from kapsession.services.notepad import NotePad
from kapsession.services.pins import SWITCH_PURPOSE
from kapsession.storage.audit import AuditRepository
from kapsession.storage.notes import NoteRepository

CALM = {"heart_rate_bpm": "72", "spo2_pct": "98", "resp_rate_per_min": "14", "moaas": "5"}
PIN = "246813"
NOTE = SessionNoteText("kap", (("plan", "Plan", "Integration on Tuesday"),))


def start(room: Room, **team: object) -> None:
    room.service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[room.client().id],
        modality="individual",
        at=room.clock.now(),
        **team,  # type: ignore[arg-type]
    )


# starting with a team ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "says"),
    [
        ({"nurse": True}, "Choose the session's therapist: a session cannot start without one."),
        ({"therapist": True}, "Choose the monitoring clinician (who takes the vitals and signs"),
        ({"therapist": "nurse", "nurse": True}, "Tom Becker, RN cannot be the therapist"),
        ({"therapist": True, "nurse": "therapist"}, "cannot be the monitoring clinician"),
        ({"therapist": True, "nurse": True, "prescriber": "nurse"}, "cannot be the prescriber"),
    ],
    ids=[
        "no-therapist",
        "no-monitor",
        "nurse-as-therapist",
        "therapist-monitors",
        "nurse-prescribes",
    ],
)
def test_a_session_without_its_team_does_not_start(
    room: Room, who: dict[str, object], says: str
) -> None:
    # Given the room's therapist and nurse
    staff = {"therapist": room.therapist.id, "nurse": room.nurse.id}
    team = {
        f"{place}_id": staff[place if value is True else str(value)] for place, value in who.items()
    }
    # When a session is started with a team missing someone, or someone in the wrong place
    with pytest.raises(StorageError) as refused:
        start(room, **team)
    # Then it is refused with what to choose, and nothing is saved
    assert says in str(refused.value)
    assert room.service.sessions.count() == 0


def test_the_refusal_of_a_role_names_the_rule(room: Room) -> None:
    with pytest.raises(NotAllowed) as refused:
        start(room, therapist_id=room.nurse.id, nurse_id=room.nurse.id)
    assert str(refused.value) == (
        "Tom Becker, RN cannot be the therapist: the therapist is a therapist or physician "
        "(the clinic's role rules, clinic.toml); Tom Becker is on the staff list as a nurse. "
        "Choose someone else."
    )


def test_a_group_names_a_monitoring_clinician_per_participant(room: Room) -> None:
    # Given a second nurse and a prescriber
    nadia = room.service.add_staff("Nadia Brook", "nurse", at=START, credentials="RN")
    prescriber = room.service.add_staff("Dr. Ines Moreau", "physician", at=START)
    maya, jonas, lea = room.client(), room.client("Jonas", "Weber"), room.client("Lea", "Braun")
    # When the group starts with Tom for everyone but Lea, whom Nadia monitors
    record = room.service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[maya.id, jonas.id, lea.id],
        modality="group",
        at=START,
        therapist_id=room.therapist.id,
        nurse_id=room.nurse.id,
        prescriber_id=prescriber.id,
        monitors={lea.id: nadia.id},
    )
    # Then each participant's readings go to their own monitoring clinician
    live, _signals = room.open_live(record.id)
    first, second, third = live.participants
    for participant in (first, second, third):
        saved = live.save_checkin(participant.id, {**CALM, "bp": "120/80"})
        assert saved is not None and saved.saved
    by = {o.participant_id: o.recorded_by_id for o in live.observations}
    assert by == {first.id: room.nurse.id, second.id: room.nurse.id, third.id: nadia.id}
    assert record.prescriber_id == prescriber.id


# whose name each entry carries -------------------------------------------------------------
def test_nurse_entries_go_to_the_monitoring_clinician_and_notes_to_the_therapist(
    room: Room,
) -> None:
    # Given a live session (therapist Dr. Adeyemi, monitoring Tom Becker), nobody switched in
    record = room.start()
    live, signals = room.open_live(record.id)
    pad = NotePad(live)
    pid = record.participants[0].id
    assert live.at_keyboard is None
    # When a baseline, a dose, a reading over the alert line and its acknowledgement, a note
    # and a marker are entered, then a discharge
    saved = live.save_checkin(pid, {**CALM, "bp": "124/80"}, checkin_key="baseline")
    assert saved is not None and saved.saved
    room.clock.advance(40 * 60)
    dosed = live.record_dose(pid, "200 mg")
    assert dosed is not None and dosed.dose is not None
    room.clock.advance(15 * 60)
    saved = live.save_checkin(pid, {**CALM, "bp": "186/100"})
    assert saved is not None and saved.saved
    (alert,) = live.open_alerts
    assert live.acknowledge_alert(alert.id, "rechecked")
    pad.commit("record", "Settled", pid)
    marker = live.add_marker("Eye mask on", pid)
    room.clock.advance(120 * 60)
    live.tick()
    assert live.save_checkin(pid, {**CALM, "bp": "122/80"}) is not None
    discharged = live.record_discharge(pid, FULL_ALDRETE, ALL_YES)
    assert discharged is not None, signals.failed
    assert discharged.saved, [p.message for p in discharged.evaluation.problems]
    # Then the nurse's entries carry the nurse, the note and the marker the therapist
    nurse, therapist = room.nurse.id, room.therapist.id
    assert {o.recorded_by_id for o in live.observations} == {nurse}
    assert (dosed.dose.given_by_id, dosed.dose.recorded_by_id) == (nurse, nurse)
    assert room.service.checkins.alerts(record.id)[0].acknowledged_by_id == nurse
    assert discharged is not None and discharged.saved
    (assessment,) = room.service.checkins.discharges.assessments(record.id)
    assert assessment.recorded_by_id == nurse
    (note,) = NoteRepository(room.context.database).notes(record.id)
    assert note.author_id == therapist
    assert marker is not None and marker.recorded_by_id == therapist
    pad.stop()
    assert "NOT" not in " ".join(signals.failed)


def test_whoever_switched_in_at_the_keyboard_is_the_author_of_every_entry(room: Room) -> None:
    # Given a relief nurse at the keyboard (her PIN was checked by the caller)
    nadia = room.service.add_staff("Nadia Brook", "nurse", at=START, credentials="RN")
    record = room.start()
    live, _signals = room.open_live(record.id)
    pad = NotePad(live)
    pid = record.participants[0].id
    changes: list[None] = []
    live.team_changed.connect(lambda: changes.append(None))
    live.switch_to(nadia.id)
    # When she saves a reading and a note
    assert live.save_checkin(pid, {**CALM, "bp": "120/80"}) is not None
    pad.commit("record", "Quiet", pid)
    # Then both are hers; back to the team, the next reading is the monitoring nurse's again
    assert live.observations[-1].recorded_by_id == nadia.id
    assert NoteRepository(room.context.database).notes(record.id)[-1].author_id == nadia.id
    live.switch_to(None)
    room.clock.advance(60)
    assert live.save_checkin(pid, {**CALM, "bp": "121/80"}) is not None
    assert live.observations[-1].recorded_by_id == room.nurse.id
    assert len(changes) == 2
    pad.stop()


def test_an_old_session_without_a_monitoring_clinician_asks_who_acknowledges(
    room: Room,
) -> None:
    # Given a session made before teams were required (storage only: no nurse named)
    client = room.client()
    sessions = room.service.sessions
    made = sessions.create(
        protocol_key="sublingual-kap-3h",
        protocol_name="Sublingual KAP, 3 hours",
        protocol_version=1,
        protocol_text=room.service.catalog.get("sublingual-kap-3h").text,
        modality="individual",
        client_ids=[client.id],
        at=START,
        therapist_id=room.therapist.id,
    )
    record = sessions.start(made.id, at=START, by=None)
    live, signals = room.open_live(record.id)
    saved = live.save_checkin(record.participants[0].id, {**CALM, "bp": "186/100"})
    assert saved is not None and saved.saved
    (alert,) = live.open_alerts
    # When the alert is acknowledged with nobody named or switched in, Then it is refused
    assert not live.acknowledge_alert(alert.id, "rechecked")
    assert "Press Ctrl+W and switch to yourself" in signals.failed[-1]
    # And once the nurse switched in, it is hers
    live.switch_to(room.nurse.id)
    assert live.acknowledge_alert(alert.id, "rechecked")
    assert room.service.checkins.alerts(record.id)[0].acknowledged_by_id == room.nurse.id


# switching with a PIN ------------------------------------------------------------------------
def test_switching_needs_the_persons_own_pin_and_is_audited(room: Room) -> None:
    pins = room.context.notes.pins
    pins.set_pin(room.nurse.id, PIN, PIN)
    record = room.start()
    refused = pins.check_switch(room.nurse.id, "135792", session_id=record.id)
    assert not refused.ok
    assert refused.message == "That PIN is not right. The person at the keyboard was not changed."
    room.clock.advance(5)
    assert pins.check_switch(room.nurse.id, PIN, session_id=record.id).ok
    audit = AuditRepository(room.context.database).for_session(record.id)
    assert [(a.action, a.staff_id, a.detail["purpose"]) for a in audit if "pin" in a.action] == [
        ("pin.refused", room.nurse.id, SWITCH_PURPOSE),
        ("pin.accepted", room.nurse.id, SWITCH_PURPOSE),
    ]
    no_pin = pins.check_switch(room.therapist.id, PIN, session_id=record.id)
    assert not no_pin.ok and "has no PIN yet" in no_pin.message


# handovers ---------------------------------------------------------------------------------
def test_a_handover_during_the_session_changes_who_the_entries_go_to(room: Room) -> None:
    # Given a couples session, and a relief nurse
    nadia = room.service.add_staff("Nadia Brook", "nurse", at=START, credentials="RN")
    record = room.start(room.client(), room.client("Jonas", "Weber"))
    live, signals = room.open_live(record.id)
    maya, jonas = live.participants
    room.clock.advance(30 * 60)
    # When Nadia takes over Jonas's monitoring
    assert live.hand_over(TeamRole.MONITORING, nadia.id, participant_id=jonas.id, by=nadia.id)
    # Then the handover is an event with who and when, saying it plainly
    (event,) = [e for e in live.events if e.kind == "handover"]
    assert event.label == (
        "Monitoring clinician of Jonas Weber: Nadia Brook, RN takes over (was Tom Becker, RN)"
    )
    assert (event.occurred_at, event.recorded_by_id) == (room.clock.now(), nadia.id)
    assert signals.saved[-1].startswith(event.label)
    # And Jonas's readings are hers from now on, Maya's still Tom's
    for participant in (maya, jonas):
        assert live.save_checkin(participant.id, {**CALM, "bp": "120/80"}) is not None
    by = {o.participant_id: o.recorded_by_id for o in live.observations}
    assert by == {maya.id: room.nurse.id, jonas.id: nadia.id}
    assert live.record == room.service.sessions.get(record.id)
    # And the session's event list shows it
    names = {s.id: s.signature_name for s in room.service.staff.all()}
    pad = NotePad(live)
    items = pad.read_log(names).items
    pad.stop()
    assert [(i.kind, i.title) for i in items if i.entry_id == event.id] == [
        (LogKind.SESSION, event.label)
    ]


def test_a_handover_to_someone_not_allowed_the_place_is_refused(room: Room) -> None:
    record = room.start()
    live, signals = room.open_live(record.id)
    assert not live.hand_over(TeamRole.THERAPIST, room.nurse.id, by=room.nurse.id)
    assert "cannot be the therapist" in signals.failed[-1]
    assert not live.hand_over(TeamRole.MONITORING, room.nurse.id, by=room.nurse.id)
    assert "already the monitoring clinician" in signals.failed[-1]
    assert [e for e in live.events if e.kind == "handover"] == []
    assert live.record.therapist_id == room.therapist.id


# signing by role -----------------------------------------------------------------------------
def test_each_part_is_signed_by_the_role_the_rules_give_it(room: Room) -> None:
    # Given an ended session, and PINs and signing passphrases for its therapist and nurse
    notes = room.context.notes
    for member in (room.therapist, room.nurse):
        notes.pins.set_pin(member.id, PIN, PIN)
        give_passphrase(notes, member.id, PIN)
    record = room.start()
    room.service.end_session(record.id, at=room.clock.now() + minutes(1))
    room.clock.advance(120)
    # When the therapist signs the monitoring part, Then it is refused, with the rule
    refused = notes.sign(record.id, room.therapist.id, PASSPHRASE, ["monitoring"], None)
    assert not refused.ok
    assert "may not sign the monitoring part" in refused.message
    assert "nurse, prescriber or physician" in refused.message
    # When the nurse signs the therapy part, Then it is refused: it is the therapist's
    refused = notes.sign(record.id, room.nurse.id, PASSPHRASE, ["therapy"], NOTE)
    assert not refused.ok and "signed by the session's therapist" in refused.message
    # When each signs their own, Then the session is signed
    assert notes.sign(record.id, room.nurse.id, PASSPHRASE, ["monitoring"], None).ok
    assert notes.sign(record.id, room.therapist.id, PASSPHRASE, ["therapy"], NOTE).ok
    assert notes.state(record.id).status == "signed"


def test_the_demo_signs_as_the_rules_ask(room: Room) -> None:
    # Given the demo data
    populate(room.service, START)
    staff = {s.id: s for s in room.service.staff.all()}
    signed = room.service.sessions.summaries(status="signed")
    assert signed
    for summary in signed:
        # Then every monitoring part is signed by a nurse, every therapy part by the therapist
        signatures = {s.part: s for s in room.context.notes.signatures.signatures(summary.id)}
        record = room.service.sessions.get(summary.id)
        assert staff[signatures["monitoring"].staff_id].role == "nurse"
        assert signatures["therapy"].staff_id == record.therapist_id
    # And the esketamine session names its prescriber on site
    esketamine = [
        room.service.sessions.get(s.id)
        for s in room.service.sessions.summaries()
        if s.protocol_key == "intranasal-esketamine"
    ]
    assert [staff[r.prescriber_id].role for r in esketamine if r.prescriber_id] == ["prescriber"]
