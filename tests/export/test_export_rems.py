"""SPRAVATO REMS monitoring data: refused for anything but intranasal esketamine; for the demo
esketamine session every answer matches the records it comes from; the rules for missing REMS
check-ins, unacceptable vitals and odd doses; and the one-page form, read back with poppler."""

from __future__ import annotations

import math
import os
import subprocess
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from support.team import team

from kapsession.export.content import ExportContent, ExportRefused
from kapsession.export.rems import rems_data, rems_pdf
from kapsession.records.adverse import AdverseEventRecord, InterventionRecord
from kapsession.records.entries import EventKind, EventRecord
from kapsession.records.sessions import SessionStatus
from kapsession.services.context import AppContext
from kapsession.services.export_content import gather

if TYPE_CHECKING:
    from conftest import DemoData  # the `demo_db` fixture's value (tests/export/conftest.py)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before pytest-qt makes the app

NOW = datetime(2027, 1, 25, 14, 0, tzinfo=UTC)  # the export's time: after every demo session


def esketamine(demo: DemoData) -> ExportContent:
    session = next(s for s in demo.sessions if s.protocol == "intranasal-esketamine")
    return gather(demo.context.database, session.id, exported_at=NOW)


def reading(content: ExportContent, key: str) -> tuple[int, int, datetime]:
    """The standing BP of one check-in, straight from the records."""
    found = [o for o in content.standing_observations if o.checkin_key == key and o.has_bp]
    assert len(found) == 1, key
    return found[0].values["systolic_mmhg"], found[0].values["diastolic_mmhg"], found[0].occurred_at


def pdf_text(data: bytes, folder: Path) -> tuple[str, str]:
    """(text, pdfinfo) of a PDF."""
    path = folder / "rems.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True)
    assert text.returncode == 0 and info.returncode == 0
    return text.stdout, info.stdout


def pages(info: str) -> int:
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


# --- refused ------------------------------------------------------------------------------------


def test_every_other_route_is_refused(qapp: object, demo_db: DemoData) -> None:
    others = [s for s in demo_db.sessions if s.protocol != "intranasal-esketamine"]
    assert {s.route for s in others} >= {"sublingual", "intramuscular", "intravenous"}
    for session in others:
        # Given a session that is not intranasal esketamine
        content = gather(
            demo_db.context.database, session.id, participant=session.client, exported_at=NOW
        )
        # When its REMS data or form is asked for, then it is refused, saying why and what to do
        for make in (rems_data, rems_pdf):
            with pytest.raises(ExportRefused) as refused:
                make(content)
            message = str(refused.value)
            assert "only for intranasal esketamine" in message
            assert content.protocol.name in message and "pdf, md, csv or fhir" in message


# --- the answers match the records --------------------------------------------------------------


def test_the_demo_esketamine_answers_match_the_records(qapp: object, demo_db: DemoData) -> None:
    # Given the demo's esketamine session, read from its records independently
    content = esketamine(demo_db)
    dose = next(d for d in content.standing_doses if d.kind == "initial")
    devices = [e for e in content.events if e.kind == "device_given"]
    discharge = content.standing_discharges[-1]
    # When its REMS data is taken
    data = rems_data(content)
    # Then the dose is its devices × 28 mg: 56 mg, the form's first box, with its lot
    assert data.devices_given == 1 + len(devices) == 2
    assert data.dose_mg == 56 == dose.dose_mg and data.dose_choice == "56"
    assert data.lot_numbers == (dose.lot_number,)
    # the minutes run from the first device to the discharge, and readiness is the discharge's
    assert data.first_device_at == dose.occurred_at
    assert data.monitoring_ended_at == discharge.occurred_at and data.monitoring_end == "discharge"
    expected = math.floor((discharge.occurred_at - dose.occurred_at) / timedelta(minutes=1))
    assert data.total_minutes == expected >= 120
    assert data.ready_to_leave_minutes == discharge.ready_minutes_after_first_dose is not None
    # the three blood pressures are the protocol's REMS check-ins
    for bp, key in (
        (data.bp_before, "baseline"),
        (data.bp_at_40, "t40"),
        (data.bp_before_completion, "pre-discharge"),
    ):
        systolic, diastolic, at = reading(content, key)
        assert (bp.systolic_mmhg, bp.diastolic_mmhg, bp.at) == (systolic, diastolic, at)
        assert bp.source.startswith("check-in")
    # the demo's 40-minute BP raised an alert; the others are acceptable
    assert data.bp_at_40.systolic_mmhg is not None and data.bp_at_40.systolic_mmhg >= 180
    assert data.vitals_acceptable_before is True and data.vitals_acceptable_after is True
    # an alert is not an adverse event unless the team recorded one (issue 16): none here
    assert len(content.alerts) == 1 and content.adverse_events == []
    assert data.adverse_events == () and data.deviations == ()
    # sedation (MOAA/S 4) and dissociation were seen and resolved; no respiratory depression
    assert data.sedation.present and "MOAA/S 4" in data.sedation.detail
    assert data.dissociation.present and data.dissociation.resolved_at is not None
    assert data.respiratory_depression.present is False
    assert data.draft is True


def test_without_rems_check_ins_the_nearest_readings_are_used(
    qapp: object, demo_db: DemoData
) -> None:
    # Given the same session as if its readings had been taken as unscheduled check-ins
    content = esketamine(demo_db)
    plain = replace(
        content, observations=[replace(o, checkin_key=None) for o in content.observations]
    )
    # When its REMS data is taken
    data = rems_data(plain)
    # Then the BPs are the last before the first device, the nearest to T+40, and the last
    # up to the discharge: the same readings as the REMS check-ins here
    assert data.bp_before.text == "{}/{}".format(*reading(content, "baseline")[:2])
    assert data.bp_at_40.text == "{}/{}".format(*reading(content, "t40")[:2])
    assert data.bp_before_completion.text == "{}/{}".format(*reading(content, "pre-discharge")[:2])
    assert data.bp_at_40.source == "BP nearest to T+40"
    assert data.bp_before.source == "last BP before the first device"


def test_a_baseline_above_the_hold_dose_limit_is_not_acceptable(
    qapp: object, demo_db: DemoData
) -> None:
    # Given a pre-dose BP of 172/96, above the protocol's 160/100 block limit
    content = esketamine(demo_db)
    raised = [
        replace(o, values={**o.values, "systolic_mmhg": 172, "diastolic_mmhg": 96})
        if o.checkin_key == "baseline"
        else o
        for o in content.observations
    ]
    # When its REMS data is taken, then vitals before dosing are not acceptable, and why
    data = rems_data(replace(content, observations=raised))
    assert data.vitals_acceptable_before is False
    assert "hold-dose limit 160/100" in data.vitals_acceptable_before_detail
    assert data.bp_before.text == "172/96"


@pytest.mark.parametrize(("devices", "mg", "choice"), [(1, 28.0, "other"), (3, 84.0, "84")])
def test_the_dose_is_the_devices_given(
    qapp: object, demo_db: DemoData, devices: int, mg: float, choice: str
) -> None:
    # Given the session's dose with one device given, or three
    content = esketamine(demo_db)
    device = next(e for e in content.events if e.kind == "device_given")
    others = [e for e in content.events if e.kind != "device_given"]
    extra = [
        replace(device, id=uuid.uuid4(), occurred_at=device.occurred_at + timedelta(minutes=5 * i))
        for i in range(devices - 1)
    ]
    # When its REMS data is taken, then the dose is devices × 28 mg, in the form's box for it
    data = rems_data(replace(content, events=others + extra))
    assert (data.devices_given, data.dose_mg, data.dose_choice) == (devices, mg, choice)


# --- the form -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("page", "size"), [("A4", "(A4)"), ("Letter", "(letter)")])
def test_the_form_is_one_page_with_the_answers(
    qapp: object, demo_db: DemoData, tmp_path: Path, page: str, size: str
) -> None:
    # Given the esketamine session's REMS data
    content = esketamine(demo_db)
    data = rems_data(content)
    # When the form is printed
    text, info = pdf_text(rems_pdf(content, page=page), tmp_path)
    flat = " ".join(text.split())
    # Then it is one page of the chosen paper, with every answer the record gives
    assert pages(info) == 1
    assert size in info
    assert "56 mg" in flat and data.lot_numbers[0] in flat
    assert f"{data.total_minutes} minutes" in flat
    assert f"{data.ready_to_leave_minutes} minutes" in flat
    for bp in (data.bp_before, data.bp_at_40, data.bp_before_completion):
        assert f"{bp.text} mmHg" in flat
    assert data.given_name in flat and data.family_name in flat
    assert f"{data.treatment_date:%m/%d/%Y}" in flat
    # and it says DRAFT, since the session is not signed yet
    assert "DRAFT" in flat


def test_a_signed_session_has_no_draft_mark(
    qapp: object, demo_db: DemoData, tmp_path: Path
) -> None:
    # Given the same data as if the session were signed
    content = esketamine(demo_db)
    signed = replace(content, session=replace(content.session, status=SessionStatus.SIGNED))
    # When the form is printed, then nothing says DRAFT
    text, _info = pdf_text(rems_pdf(signed), tmp_path)
    assert "DRAFT" not in text


def test_many_adverse_events_still_fit_on_one_page(
    qapp: object, demo_db: DemoData, tmp_path: Path
) -> None:
    # Given forty adverse events in the session
    content = esketamine(demo_db)
    alert = content.alerts[0]
    events = [
        _hypertension(content, alert.raised_at + timedelta(minutes=i), alert.id) for i in range(40)
    ]
    busy = replace(content, adverse_events=events)
    assert len(rems_data(busy).adverse_events) == 40
    # When the form is printed, then it stays one page and counts what it could not list
    text, info = pdf_text(rems_pdf(busy, page="Letter"), tmp_path)
    assert pages(info) == 1
    assert "more: see the session record" in " ".join(text.split())


def test_a_session_without_a_dose_leaves_the_answers_blank(
    qapp: object, demo_copy: AppContext, tmp_path: Path
) -> None:
    # Given an esketamine session just started: no dose, reading or discharge yet
    client = next(c for c in demo_copy.service.clients.search("DEMO-0004"))
    record = demo_copy.service.start_session(
        protocol_key="intranasal-esketamine",
        client_ids=[client.id],
        modality="individual",
        at=NOW,
        **team(demo_copy.service, NOW),
    )
    content = gather(demo_copy.database, record.id, exported_at=NOW + timedelta(minutes=1))
    # When its REMS data is taken, then nothing is made up: no dose, minutes or pressures
    data = rems_data(content)
    assert (data.dose_mg, data.dose_choice, data.devices_given) == (None, "", 0)
    assert data.total_minutes is None and data.ready_to_leave_minutes is None
    assert data.bp_before.text == data.bp_at_40.text == data.bp_before_completion.text == ""
    assert data.vitals_acceptable_before is None and not data.adverse_events
    # sedation, dissociation and breathing: unknown, not "no", when nothing was measured
    assert data.sedation.present is None and data.respiratory_depression.present is None
    # and the form is still one page, asking for the blanks by hand
    text, info = pdf_text(rems_pdf(content), tmp_path)
    assert pages(info) == 1 and "complete by hand" in text


def _hypertension(content: ExportContent, at: datetime, alert_id: uuid.UUID) -> AdverseEventRecord:
    return AdverseEventRecord(
        id=uuid.uuid4(), session_id=content.session.id, participant_id=content.participant.id,
        kind="hypertension", other="", severity="moderate", seriousness="non-serious",
        outcome="resolved", occurred_at=at, recorded_at=at, resolved_at=at + timedelta(minutes=20),
        alert_id=alert_id, actions="rested, lights dimmed", recorded_by_id=None,
    )  # fmt: skip


def test_the_adverse_events_are_the_recorded_ones_and_an_override_is_a_deviation(
    demo_db: DemoData,
) -> None:
    # Given the esketamine session with an adverse event after its alert, clonidine given for
    # it, and a dose given despite the hold-dose check
    content = esketamine(demo_db)
    alert = content.alerts[0]
    event = _hypertension(content, alert.raised_at + timedelta(minutes=2), alert.id)
    given = InterventionRecord(
        id=uuid.uuid4(), session_id=event.session_id, participant_id=event.participant_id,
        kind="rescue_medication", occurred_at=event.occurred_at, recorded_at=event.occurred_at,
        medication="clonidine", dose=0.1, unit="mg", route="oral", lot_number=None,
        flow_l_min=None, device=None, text="", given_by_id=None, adverse_event_id=event.id,
        alert_id=None, recorded_by_id=None,
    )  # fmt: skip
    dose = content.standing_doses[0]
    override = EventRecord(
        id=uuid.uuid4(), session_id=dose.session_id, participant_id=dose.participant_id,
        kind=EventKind.HOLD_DOSE_OVERRIDE, label="Dosed despite BP 162/98: prescriber agreed",
        occurred_at=dose.occurred_at, recorded_at=dose.occurred_at, recorded_by_id=None,
    )  # fmt: skip
    changed = replace(
        content,
        adverse_events=[event],
        interventions=[given],
        events=[*content.events, override],
    )
    # When its REMS data is taken
    data = rems_data(changed)
    # Then the adverse event is listed with its grading and what was given for it
    (line,) = data.adverse_events
    assert "Hypertension (moderate · non-serious · resolved at T+" in line
    assert "given: Clonidine 0.1 mg oral" in line
    # And the hold-dose override is a protocol deviation, never an adverse event
    assert not any("162/98" in text for text in data.adverse_events)
    (deviation,) = data.deviations
    assert deviation.endswith(f": {override.label}")
