"""The demo's doses that last in every export (issue 16): the IV infusion as a period (FHIR
MedicationAdministration.effectivePeriod with its rate and total; the PDF, Markdown and CSV
name its start, stop, pause and total) and the sublingual hold's end (FHIR: a note on the
MedicationAdministration, which an EHR shows with the dose; the others: its line)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fhir.resources.R4B.bundle import Bundle
from test_export_pdf import text_of, write_pdf

from kapsession.export.csv_export import events_csv
from kapsession.export.fhir import to_fhir_json
from kapsession.export.pdf import to_pdf
from kapsession.export.text import to_markdown
from kapsession.services.export_content import gather

if TYPE_CHECKING:
    from conftest import DemoData

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
NOW = datetime(2027, 1, 25, 14, 0, tzinfo=UTC)


def _hm(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")


def _administrations(text: str) -> list[dict[str, Any]]:
    bundle = json.loads(text)
    Bundle.model_validate(bundle)  # a valid R4(B) document, the period and rate included
    return [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
    ]


def test_the_infusion_is_a_period_in_every_export(
    demo_db: DemoData, qapp: object, tmp_path: Path
) -> None:
    # Given the demo's IV session: 0.5 mg/kg at 68 kg (34 mg), paused at 18 min for 3, stopped
    # at 43
    iv = next(s for s in demo_db.sessions if s.protocol == "iv-infusion")
    content = gather(demo_db.context.database, iv.id, exported_at=NOW)
    (dose,) = content.doses
    start, stop = dose.occurred_at, dose.occurred_at + timedelta(minutes=43)
    period = f"IV infusion {_hm(start)}–{_hm(stop)} (40 min, paused 3 min), total 34 mg"
    # When it is exported as FHIR
    (administration,) = _administrations(to_fhir_json(content))
    # Then the administration is a period with the total and the mean rate
    assert "effectiveDateTime" not in administration
    assert administration["effectivePeriod"] == {
        "start": start.isoformat().replace("+00:00", "Z"),
        "end": stop.isoformat().replace("+00:00", "Z"),
    }
    assert administration["dosage"]["dose"]["value"] == 34
    assert administration["dosage"]["rateQuantity"] == {
        "value": 51,
        "unit": "mg/h",
        "system": "http://unitsofmeasure.org",
        "code": "mg/h",
    }
    assert any(period in note["text"] for note in administration["note"])
    # And the Markdown, the CSV events and the PDF say the period
    assert period in to_markdown(content)
    assert period in events_csv(content)
    assert "Infusion paused" in events_csv(content)
    pdf = text_of(write_pdf(to_pdf(content), tmp_path))
    assert " ".join(period.split()) in " ".join(pdf.split())


def test_the_sublingual_hold_end_is_in_every_export(
    demo_db: DemoData, qapp: object, tmp_path: Path
) -> None:
    # Given the demo's first sublingual session: the dose spat out after its 10-minute hold
    sublingual = demo_db.first
    content = gather(demo_db.context.database, sublingual.id, exported_at=NOW)
    (dose,) = content.doses
    spat = dose.occurred_at + timedelta(minutes=11)
    # When it is exported as FHIR, then the administration notes the hold and the spit
    (administration,) = _administrations(to_fhir_json(content))
    assert administration["effectiveDateTime"]
    held = f"Held sublingually 11 min (hold 10 min), spat out at {_hm(spat)}."
    assert held in [note["text"] for note in administration["note"]]
    # And the Markdown, the CSV events and the PDF name it
    line = "Spat out after a sublingual hold of 11 min"
    assert line in to_markdown(content)
    assert line in events_csv(content)
    assert line in " ".join(text_of(write_pdf(to_pdf(content), tmp_path)).split())
