"""A discharge before the minimum time on the prescriber's override, read back from every
export (issue 16): the protocol deviation with the minimum, the time waited, the prescriber and
the reason in the Markdown note, the printed record (PDF), the CSV events, the FHIR document
and the REMS form (whose discharge time stays the real one); and the PDF's doses table shows a
dose given under the prescriber's override, who and why."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from kapsession.domain.discharge import AldreteObservation, DischargeOverride
from kapsession.domain.dose_order import DoseOrder, PrescriberOverride
from kapsession.domain.protocol import Medication, Route
from kapsession.export.content import ExportContent
from kapsession.export.csv_export import events_csv
from kapsession.export.fhir import to_fhir_bundle
from kapsession.export.pdf import to_pdf
from kapsession.export.rems import rems_data
from kapsession.export.text import to_markdown
from kapsession.export.times import clock_time
from kapsession.records.people import StaffRecord
from kapsession.services.context import AppContext
from kapsession.services.export_content import gather
from kapsession.services.session_service import OrderEntry

CALM = {"bp": "124/78", "heart_rate_bpm": "72", "spo2_pct": "98", "resp_rate_per_min": "14"}
REASON = "Transfer to hospital for an unrelated injury"
DOSE_REASON = "Tolerated 84 mg at the last session"
FULL = AldreteObservation(activity=2, breathing=2, consciousness=2)


def pdf_text(content: ExportContent, folder: Path, name: str) -> str:
    """The PDF's words in reading order, one space apart (whatever a column wraps)."""
    pdf = folder / name
    pdf.write_bytes(to_pdf(content))
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(text.split())


def early_esketamine_discharge(context: AppContext) -> tuple[Any, StaffRecord, datetime]:
    """An esketamine session ordered at 56 mg: 84 mg given on the prescriber's override (three
    devices, 5 minutes apart), then the client leaves 45 minutes after the first device on the
    prescriber's override. Returns the session, the prescriber and the first device's time."""
    service = context.service
    staff = service.staff.active()
    prescriber = next(s for s in staff if s.role == "prescriber")
    therapist = next(s for s in staff if s.role == "therapist")
    nurse = next(s for s in staff if s.role == "nurse")
    client = service.clients.search("")[0]
    at = context.clock.now()
    order = DoseOrder(Medication.ESKETAMINE, Route.INTRANASAL, 56, None)
    record = service.start_session(
        protocol_key="intranasal-esketamine", client_ids=[client.id], modality="individual",
        at=at, therapist_id=therapist.id, nurse_id=nurse.id, prescriber_id=prescriber.id,
        order=OrderEntry(order, prescriber.id), by=therapist.id,
    )  # fmt: skip
    pid = record.participants[0].id
    checkins = service.checkins
    checkins.save_checkin(record.id, pid, CALM, checkin_key="baseline", occurred_at=at,
                          recorded_at=at)  # fmt: skip
    first = at + timedelta(minutes=1)
    override = PrescriberOverride(prescriber.id, prescriber.signature_name, DOSE_REASON)
    dosed = checkins.record_dose(
        record.id, pid, "84", occurred_at=first, recorded_at=first, order_override=override
    )
    assert dosed.saved, dosed.message
    for minutes in (5, 10):
        device_at = first + timedelta(minutes=minutes)
        checkins.record_device(record.id, pid, occurred_at=device_at, recorded_at=device_at)
    leave = first + timedelta(minutes=45)
    context.clock.advance((leave - at).total_seconds())
    checkins.save_checkin(record.id, pid, CALM, occurred_at=leave, recorded_at=leave)
    checklist = {item.key: True for item in checkins.protocol(record.id).discharge.checklist}
    decided = DischargeOverride(REASON, prescriber.signature_name, prescriber_id=prescriber.id)
    result = checkins.record_discharge(
        record.id, pid, observation=FULL, checklist=checklist, occurred_at=leave,
        recorded_at=leave, override=decided,
    )  # fmt: skip
    assert result.saved and len(result.deviations) == 1
    return record, prescriber, first


def test_an_early_discharge_is_a_protocol_deviation_in_every_export(
    demo_copy: AppContext, tmp_path: Path, qapp: object
) -> None:
    # Given a client who left 45 minutes after the first device (35 after the last), on the
    # prescriber's override
    record, prescriber, first = early_esketamine_discharge(demo_copy)
    content = gather(demo_copy.service.database, record.id)
    who = prescriber.signature_name
    last = clock_time(first + timedelta(minutes=10))
    wanted = (
        f"Discharged 45 min after the first dose ({clock_time(first)}); the protocol's minimum "
        f"is 120 min; 35 min after the last dose ({last}); the protocol's minimum is 60 min — "
        f"on the prescriber's override by {who}: {REASON}"
    )
    # Then the Markdown note's discharge section names the deviation
    markdown = to_markdown(content)
    assert f"- **Protocol deviation:** {wanted}\n" in markdown
    # And the printed record (read back from the PDF) in its discharge section
    folder = Path(os.environ.get("KAPSESSION_TEST_SHOTS") or tmp_path)
    printed = pdf_text(content, folder, "record-early-discharge.pdf")
    assert f"Protocol deviation {wanted}" in printed
    # And its doses table shows the dose given under the prescriber's override, who and why
    doses = printed[printed.index("Doses Time") : printed.index("Total given")]
    assert f"Prescriber's override: {who} — {DOSE_REASON}" in doses
    # And the CSV events mark it a protocol deviation
    csv = events_csv(content)
    (row,) = [line for line in csv.splitlines() if "protocol_deviation:discharge_deviation" in line]
    assert REASON in row
    # And the FHIR document's discharge assessment, valid R4B
    bundle = to_fhir_bundle(content)
    Bundle.model_validate(bundle)
    composition = bundle["entry"][0]["resource"]
    section = next(s for s in composition["section"] if s["title"] == "Discharge assessment")
    assert "Protocol deviation: Discharged 45 min after the first dose" in section["text"]["div"]
    assert REASON in section["text"]["div"]
    # And the REMS form lists it with the deviations, not as an adverse event, and its
    # monitoring ends at the real discharge: 45 minutes, not the REMS two hours
    data = rems_data(content)
    (deviation,) = [d for d in data.deviations if "prescriber's override" in d]
    assert "45 min after the first dose" in deviation and REASON in deviation
    assert data.monitoring_end == "discharge"
    assert data.total_minutes == 45
    assert not any(REASON in a for a in data.adverse_events)
