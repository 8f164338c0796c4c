"""The prescriber's order in every export (issue 16): the Markdown note, the printed record,
the CSV events and the FHIR document (a MedicationRequest the MedicationAdministration points
at), with a verbal order's countersignature and a dose given under the prescriber's override;
a session without an order says so."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from kapsession.domain.dose_order import DoseOrder, PrescriberOverride
from kapsession.domain.protocol import Medication, Route
from kapsession.export.content import ExportContent
from kapsession.export.csv_export import events_csv
from kapsession.export.document_html import html
from kapsession.export.fhir import to_fhir_bundle
from kapsession.export.pdf import to_pdf
from kapsession.export.print_record import print_document
from kapsession.export.text import to_markdown
from kapsession.services.context import AppContext
from kapsession.services.export_content import gather
from kapsession.services.session_service import OrderEntry

IV = 5  # the demo's IV session: a verbal order, countersigned before the end
CALM = {"bp": "124/78", "heart_rate_bpm": "72", "spo2_pct": "98", "resp_rate_per_min": "14"}


def content_of(context: AppContext, session_id: Any) -> ExportContent:
    return gather(context.service.database, session_id)


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_a_verbal_order_and_its_countersignature_are_in_every_export(demo_db: Any) -> None:
    # Given the demo's IV session, ordered at 0.5 mg/kg by a verbal order, countersigned
    made = demo_db.sessions[IV]
    assert made.route == "intravenous"
    content = content_of(demo_db.context, made.id)
    order = content.standing_order
    assert order is not None and order.order.verbal
    prescriber = content.staff_name(order.ordered_by_id)
    wanted = f"0.5 mg/kg IV · no booster · verbal order — ordered by {prescriber}"
    # Then the Markdown note has its section
    markdown = to_markdown(content)
    assert "## Prescriber's order" in markdown
    assert wanted in markdown and f"countersigned by {prescriber}" in markdown
    # And the printed record's body
    printed = html(print_document(content))
    assert "Prescriber&#x27;s order" in printed or "Prescriber's order" in printed
    assert "0.5 mg/kg IV" in printed and "countersigned by" in printed
    # And the CSV events, as a row of its own
    assert wanted in events_csv(content)
    # And the FHIR document: a MedicationRequest the administration points at, valid R4B
    bundle = to_fhir_bundle(content)
    Bundle.model_validate(bundle)
    (request,) = resources(bundle, "MedicationRequest")
    assert (request["status"], request["intent"]) == ("active", "order")
    assert request["requester"]["display"] == prescriber
    assert request["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["code"] == "mg/kg"
    assert request["note"][0]["text"].startswith(f"Verbal order, countersigned by {prescriber}")
    (administration,) = resources(bundle, "MedicationAdministration")
    assert administration["request"]["reference"] == f"urn:uuid:{request['id']}"
    section = next(
        s for s in bundle["entry"][0]["resource"]["section"] if s["title"] == "Prescriber's order"
    )
    assert section["entry"] == [{"reference": f"urn:uuid:{request['id']}"}]


def test_a_dose_under_the_prescribers_override_and_a_session_without_an_order(
    demo_copy: AppContext, tmp_path: Path, qapp: object
) -> None:
    # Given a session ordered at 200 mg whose dose, 250 mg, the prescriber overrode
    service = demo_copy.service
    staff = service.staff.active()
    prescriber = next(s for s in staff if s.role == "prescriber")
    therapist = next(s for s in staff if s.role == "therapist")
    nurse = next(s for s in staff if s.role == "nurse")
    client = service.clients.search("")[0]
    at = demo_copy.clock.now()
    order = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 200, None, max_total_mg=300)
    record = service.start_session(
        protocol_key="sublingual-kap-3h", client_ids=[client.id], modality="individual", at=at,
        therapist_id=therapist.id, nurse_id=nurse.id, order=OrderEntry(order, prescriber.id),
        by=therapist.id,
    )  # fmt: skip
    pid = record.participants[0].id
    service.checkins.save_checkin(record.id, pid, CALM, checkin_key="baseline", occurred_at=at,
                                  recorded_at=at)  # fmt: skip
    given = at + timedelta(minutes=1)
    demo_copy.clock.advance(120)
    saved = service.checkins.record_dose(
        record.id, pid, "250", occurred_at=given, recorded_at=demo_copy.clock.now(),
        order_override=PrescriberOverride(prescriber.id, prescriber.signature_name, "Tolerated"),
    )  # fmt: skip
    assert saved.saved, saved.message
    content = content_of(demo_copy, record.id)
    # Then each export says the dose was given outside the order, by whose override and why
    line = f"dose outside the order, overridden by {prescriber.signature_name}: Tolerated"
    assert line in to_markdown(content)
    assert line in html(print_document(content))
    assert "Tolerated" in events_csv(content)
    bundle = to_fhir_bundle(content)
    Bundle.model_validate(bundle)
    (administration,) = resources(bundle, "MedicationAdministration")
    notes = [n["text"] for n in administration["note"]]
    assert (
        f"Given outside the order, overridden by {prescriber.signature_name}: Tolerated." in notes
    )
    # And the PDF prints the section
    pdf = Path(os.environ.get("KAPSESSION_TEST_SHOTS") or tmp_path) / "record-order.pdf"
    pdf.write_bytes(to_pdf(content))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Prescriber's order" in text and "200 mg SL" in text

    # Given a session started without an order, Then the exports say so, and FHIR has none
    bare = service.start_session(
        protocol_key="sublingual-kap-3h", client_ids=[client.id], modality="individual",
        at=demo_copy.clock.now(), therapist_id=therapist.id, nurse_id=nurse.id, by=therapist.id,
    )  # fmt: skip
    content = content_of(demo_copy, bare.id)
    assert "No order recorded, and no dose given." in to_markdown(content)
    bundle = to_fhir_bundle(content)
    Bundle.model_validate(bundle)
    assert resources(bundle, "MedicationRequest") == []
