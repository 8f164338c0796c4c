"""The demo's adverse event in every export (issue 16): Maya's third session has nausea turning
to emesis (moderate, non-serious), ondansetron 4 mg ODT given for it, the event updated when it
resolved, and the dose's controlled-substance count with 50 mg wasted and witnessed. The PDF,
the Markdown note, the CSV events and the FHIR document (valid R4B: an AdverseEvent coded with
FHIR's own vocabularies, the ketamine administration its suspect, ondansetron a
MedicationAdministration) all carry them."""

from __future__ import annotations

import csv
import io
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fhir.resources.R4B.bundle import Bundle

from kapsession.domain.adverse_events import FHIR_SYSTEMS, Outcome, Severity
from kapsession.export.content import ExportContent
from kapsession.export.csv_export import events_csv
from kapsession.export.document_text import markdown
from kapsession.export.fhir import to_fhir_bundle
from kapsession.export.note_blocks import note_document
from kapsession.export.pdf import to_pdf
from kapsession.services.export_content import gather

if TYPE_CHECKING:
    from conftest import DemoData

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

NOW = datetime(2027, 1, 25, 14, 0, tzinfo=UTC)


def emesis_session(demo: DemoData) -> ExportContent:
    maya = [s for s in demo.sessions if s.client == "Maya Fischer"]
    content = gather(demo.context.database, maya[2].id, exported_at=NOW)
    assert content.adverse_events, "the demo's third session of Maya has the adverse event"
    return content


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_record_holds_the_event_its_update_its_intervention_and_the_count(
    demo_db: DemoData,
) -> None:
    content = emesis_session(demo_db)
    # the event as first entered, and its update when it resolved
    first, update = content.adverse_events
    assert (first.outcome, update.outcome, update.corrects_id) == ("ongoing", "resolved", first.id)
    (standing,) = content.standing_adverse_events
    assert standing.resolved_at is not None and standing.title == "Emesis"
    (given,) = content.standing_interventions
    assert given.title == "Ondansetron 4 mg oral (ODT)" and given.adverse_event_id == first.id
    (count,) = content.standing_substance_counts
    assert (count.drawn_mg, count.given_mg, count.wasted_mg) == (300, 250, 50)


def test_the_fhir_document_has_the_adverse_event_coded_and_its_suspect(
    demo_db: DemoData,
) -> None:
    content = emesis_session(demo_db)
    bundle = to_fhir_bundle(content)
    # Then the R4B models accept it
    Bundle.model_validate(bundle)
    # And the standing adverse event is an AdverseEvent graded with FHIR's code systems
    (event,) = resources(bundle, "AdverseEvent")
    (standing,) = content.standing_adverse_events
    assert event["id"] == str(standing.id) and event["actuality"] == "actual"
    assert event["event"]["text"] == "Emesis"
    assert event["severity"]["coding"][0] == {
        "system": FHIR_SYSTEMS[Severity], "code": "moderate", "display": "Moderate",
    }  # fmt: skip
    assert event["outcome"]["coding"][0]["system"] == FHIR_SYSTEMS[Outcome]
    assert event["outcome"]["coding"][0]["code"] == "resolved"
    assert event["seriousness"]["coding"][0]["code"] == "non-serious"
    # And its suspect is the ketamine administration of the dose
    (dose,) = content.standing_doses
    assert event["suspectEntity"] == [{"instance": {"reference": f"urn:uuid:{dose.id}"}}]
    administrations = {a["id"]: a for a in resources(bundle, "MedicationAdministration")}
    notes = [n["text"] for n in administrations[str(dose.id)]["note"]]
    assert any("wasted 50 mg, waste witnessed by" in n for n in notes), notes
    # And ondansetron is a MedicationAdministration of its own, for the event
    (given,) = content.standing_interventions
    rescue = administrations[str(given.id)]
    assert rescue["medicationCodeableConcept"] == {"text": "ondansetron"}
    assert (
        rescue["dosage"]["dose"]["value"] == 4 and rescue["dosage"]["route"]["text"] == "oral (ODT)"
    )
    assert any("For the adverse event Emesis" in n["text"] for n in rescue["note"])
    # And the Composition lists both in its section
    composition = bundle["entry"][0]["resource"]
    section = next(
        s for s in composition["section"] if s["title"] == "Adverse events and interventions"
    )
    assert {e["reference"] for e in section["entry"]} == {
        f"urn:uuid:{standing.id}",
        f"urn:uuid:{given.id}",
    }


def test_the_markdown_note_lists_them_with_the_update_beside_the_first_version(
    demo_db: DemoData,
) -> None:
    text = markdown(note_document(emesis_session(demo_db)))
    section = text.split("## Adverse events and interventions", 1)[1].split("\n## ", 1)[0]
    assert "moderate · non-serious · ongoing" in section  # the first version, updated later
    assert "updated later — Resolved: no further vomiting" in section
    assert "moderate · non-serious · resolved" in section
    assert "Ondansetron 4 mg oral (ODT)" in section and "lot ON-2291" in section
    counted = text.split("## Controlled substance", 1)[1].split("\n## ", 1)[0]
    assert "300 mg" in counted and "50 mg" in counted


def test_the_csv_events_name_each_kind(demo_db: DemoData) -> None:
    rows = list(csv.DictReader(io.StringIO(events_csv(emesis_session(demo_db)))))
    kinds = {r["event_type"] for r in rows}
    assert {"adverse_event:emesis", "intervention:rescue_medication"} <= kinds
    (count,) = [r for r in rows if r["event_type"] == "controlled_substance"]
    assert count["dose_mg"] == "250" and count["medication"] == "ketamine"
    (given,) = [r for r in rows if r["event_type"] == "intervention:rescue_medication"]
    assert (given["medication"], given["lot_number"]) == ("ondansetron", "ON-2291")


def test_the_pdf_prints_them(qapp: object, demo_db: DemoData, tmp_path: Path) -> None:
    path = tmp_path / "record.pdf"
    path.write_bytes(to_pdf(emesis_session(demo_db)))
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    assert "Adverse events and interventions" in flat and "Controlled substance" in flat
    assert "Emesis" in flat and "Ondansetron 4 mg oral (ODT)" in flat
