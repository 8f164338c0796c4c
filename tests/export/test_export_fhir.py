"""The FHIR R4 export read back: it validates against the fhir.resources R4B models, codes every
reading with LOINC and UCUM, carries each standing value and dose exactly once, marks drafts
and corrections the FHIR way, and holds nothing of another participant."""

from __future__ import annotations

import base64
import json
import re
import shutil
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from kapsession.domain.clock import FakeClock
from kapsession.domain.vitals import Reading
from kapsession.export.content import ExportContent
from kapsession.export.fhir import to_fhir_bundle, to_fhir_json
from kapsession.paths import resolve_paths
from kapsession.records.entries import ObservationRecord
from kapsession.services.context import AppContext, open_context
from kapsession.services.demo import DemoSession, populate
from kapsession.services.export_content import gather
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.entries import EntryRepository

NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC) + timedelta(days=60)
EXPORTED_AT = NOW + timedelta(minutes=5)
XHTML = "{http://www.w3.org/1999/xhtml}"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"

# The corrections written into the unsigned demo session, and what they should become.
CORRECTED_READING = Reading(
    systolic_mmhg=131,
    diastolic_mmhg=83,
    heart_rate_bpm=77,
    spo2_pct=98,
    resp_rate_per_min=15,
    temperature_c=36.8,
    moaas=4,
    rass=-1,
    dissociation=1,
    nausea=2,
    suds=3,
    emesis=True,
    comment="Re-taken with the larger cuff",
)
READING_REASON = "Cuff too small on the first reading"
VOID_REASON = "Entered on the wrong client"
LOT_REASON = "Lot number misread from the box"
BOOSTER_REASON = "Booster was not given; entered in error"


@dataclass(frozen=True)
class Demo:
    context: AppContext
    made: list[DemoSession]
    corrected_session: uuid.UUID  # the unsigned esketamine session, with corrections
    corrected_reading: uuid.UUID  # the reading that was corrected (the original)
    voided_reading: uuid.UUID
    voided_booster: uuid.UUID

    def content(self, session_id: uuid.UUID, **kwargs: Any) -> ExportContent:
        return gather(self.context.service.database, session_id, exported_at=EXPORTED_AT, **kwargs)

    def session(self, predicate: Any) -> DemoSession:
        return next(m for m in self.made if predicate(m))


def _correct_the_unsigned_session(context: AppContext, session_id: uuid.UUID) -> dict[str, Any]:
    """Real corrections through the repositories: a reading corrected, one withdrawn, the
    dose's lot corrected, and a booster entered then withdrawn."""
    database = context.service.database
    checkins, entries = CheckinRepository(database), EntryRepository(database)
    readings = checkins.observations(session_id)
    corrected, voided = readings[1], readings[2]
    checkins.correct_observation(
        corrected.id, CORRECTED_READING, reason=READING_REASON, recorded_at=NOW
    )
    checkins.correct_observation(voided.id, None, reason=VOID_REASON, recorded_at=NOW, voids=True)
    (dose,) = entries.doses(session_id)
    entries.correct_dose(dose.id, reason=LOT_REASON, recorded_at=NOW, lot_number="SPR-5521B")
    booster, _events = entries.add_dose(
        session_id,
        dose.participant_id,
        occurred_at=dose.occurred_at + timedelta(minutes=30),
        recorded_at=NOW,
        kind="booster",
        medication="esketamine",
        route="intranasal",
        dose_mg=28.0,
        lot_number="SPR-5521A",
        given_by=dose.given_by_id,
    )
    entries.correct_dose(booster.id, reason=BOOSTER_REASON, recorded_at=NOW, voids=True)
    return {
        "corrected_reading": corrected.id,
        "voided_reading": voided.id,
        "voided_booster": booster.id,
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo sessions written once, with real corrections in the unsigned one."""
    folder = tmp_path_factory.mktemp("demo-fhir") / "data"
    paths = resolve_paths(data_dir=folder, training=True, environ={})
    context = open_context(paths, clock=FakeClock(NOW))
    try:
        made = populate(context.service, NOW)
        unsigned = made[-1]
        ids = _correct_the_unsigned_session(context, unsigned.id)
        yield Demo(context, made, unsigned.id, **ids)
    finally:
        context.close()
        shutil.rmtree(folder, ignore_errors=True)


def _all_exports(demo: Demo) -> Iterator[tuple[str, ExportContent]]:
    for made in demo.made:
        for name in made.participants:
            for private in (False, True):
                yield (
                    f"{made.protocol}/{name}/{private}",
                    demo.content(made.id, participant=name, include_private=private),
                )


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _by_identifier(bundle: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle["entry"]:
        for identifier in entry["resource"].get("identifier", []) or []:
            if isinstance(identifier, dict) and identifier.get("system") == "urn:kapsession:entry":
                found.setdefault(identifier["value"], []).append(entry["resource"])
    return found


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def _narratives(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "div" in node and "status" in node:
            yield node["div"]
        for value in node.values():
            yield from _narratives(value)
    elif isinstance(node, list):
        for item in node:
            yield from _narratives(item)


def _text_of(bundle: dict[str, Any]) -> str:
    """Everything a reader of the file can see: the JSON and every decoded attachment."""
    attachments = [
        base64.b64decode(c["attachment"]["data"]).decode("utf-8")
        for d in _resources(bundle, "DocumentReference")
        for c in d["content"]
    ]
    return "\n".join([json.dumps(bundle, ensure_ascii=False), *attachments])


# --- validation -------------------------------------------------------------------------------


def test_every_demo_export_is_a_valid_fhir_document(demo: Demo) -> None:
    for label, content in _all_exports(demo):
        # When each participant's session is exported, with and without private notes
        bundle = to_fhir_bundle(content)
        # Then the R4B models accept it (required fields, types, no unknown elements)
        Bundle.model_validate(bundle)
        # And it is a document: identifier, timestamp, the Composition first
        assert bundle["type"] == "document", label
        assert bundle["identifier"]["system"] and bundle["identifier"]["value"], label
        assert bundle["timestamp"] >= bundle["entry"][0]["resource"]["date"], label
        assert bundle["entry"][0]["resource"]["resourceType"] == "Composition", label
        # And every entry is urn:uuid:<its id>, once, and every reference resolves in the bundle
        urls = [e["fullUrl"] for e in bundle["entry"]]
        assert len(urls) == len(set(urls)), label
        for entry in bundle["entry"]:
            assert entry["fullUrl"] == f"urn:uuid:{uuid.UUID(entry['resource']['id'])}", label
        assert set(_references(bundle)) <= set(urls), label
        # And every narrative is well-formed XHTML in a <div>
        for div in _narratives(bundle):
            root = ET.fromstring(div)
            assert root.tag == f"{XHTML}div", label


def test_the_json_text_is_the_bundle_and_the_same_every_time(demo: Demo) -> None:
    session_id = demo.made[0].id
    # When the same session is gathered and exported twice
    first, second = (to_fhir_json(demo.content(session_id)) for _ in range(2))
    # Then the bytes are identical, indented, and parse back to the bundle
    assert first == second
    assert first.startswith('{\n  "resourceType": "Bundle"')
    assert json.loads(first) == to_fhir_bundle(demo.content(session_id))
    # And a change to the record gives a different document identifier
    content = demo.content(session_id)
    changed = replace(content, doses=[replace(content.doses[0], dose_mg=199.0)])
    assert (
        to_fhir_bundle(changed)["identifier"]["value"] != json.loads(first)["identifier"]["value"]
    )


# --- observations -----------------------------------------------------------------------------

VITALS = [
    # field, LOINC codes expected, UCUM code, display unit
    ("heart_rate_bpm", {"8867-4"}, "/min"),
    ("spo2_pct", {"59408-5", "2708-6"}, "%"),
    ("resp_rate_per_min", {"9279-1"}, "/min"),
    ("temperature_c", {"8310-5"}, "Cel"),
]


@pytest.mark.parametrize(("field", "codes", "ucum"), VITALS)
def test_each_vital_sign_has_its_loinc_code_and_ucum_unit(
    demo: Demo, field: str, codes: set[str], ucum: str
) -> None:
    # Given the corrected session, whose standing readings include a temperature
    content = demo.content(demo.corrected_session)
    bundle = to_fhir_bundle(content)
    found = _by_identifier(bundle)
    readings = [o for o in content.standing_observations if o.values[field] is not None]
    assert readings
    for reading in readings:
        (obs,) = found[f"{reading.id}/{field}"]
        # Then the code, the unit and the value are the LOINC/UCUM ones, as vital signs
        assert {c["code"] for c in obs["code"]["coding"] if c["system"] == LOINC} == codes
        assert obs["category"][0]["coding"][0]["code"] == "vital-signs"
        quantity = obs["valueQuantity"]
        assert (quantity["system"], quantity["code"]) == (UCUM, ucum)
        assert quantity["value"] == reading.values[field]
        assert obs["effectiveDateTime"] == reading.occurred_at.isoformat().replace("+00:00", "Z")


def test_blood_pressure_is_a_panel_with_systolic_and_diastolic_components(demo: Demo) -> None:
    content = demo.content(demo.corrected_session)
    found = _by_identifier(to_fhir_bundle(content))
    with_bp = [o for o in content.standing_observations if o.has_bp]
    assert with_bp
    for reading in with_bp:
        (panel,) = found[f"{reading.id}/bp"]
        assert [c["code"] for c in panel["code"]["coding"]] == ["85354-9"]
        assert "valueQuantity" not in panel  # the values are in the components
        components = {
            c["code"]["coding"][0]["code"]: c["valueQuantity"] for c in panel["component"]
        }
        assert set(components) == {"8480-6", "8462-4"}
        assert components["8480-6"]["value"] == reading.values["systolic_mmhg"]
        assert components["8462-4"]["value"] == reading.values["diastolic_mmhg"]
        for quantity in components.values():
            assert (quantity["system"], quantity["code"]) == (UCUM, "mm[Hg]")


def _measured(reading: ObservationRecord) -> dict[str, Any]:
    """The resources one reading should become, by identifier part, with their values."""
    values = reading.values
    out: dict[str, Any] = {}
    if reading.has_bp:
        out["bp"] = (values["systolic_mmhg"], values["diastolic_mmhg"])
    for name in ("heart_rate_bpm", "spo2_pct", "resp_rate_per_min", "temperature_c"):
        if values[name] is not None:
            out[name] = values[name]
    for name in ("moaas", "rass", "dissociation", "nausea", "suds", "emesis"):
        if values[name] is not None:
            out[name] = values[name]
    return out


def _value(obs: dict[str, Any]) -> Any:
    if "component" in obs:
        return tuple(c["valueQuantity"]["value"] for c in obs["component"])
    for key in ("valueQuantity", "valueInteger", "valueBoolean"):
        if key in obs:
            return obs[key]["value"] if key == "valueQuantity" else obs[key]
    raise AssertionError(f"no value in {obs['id']}")


def test_every_standing_value_appears_exactly_once(demo: Demo) -> None:
    for label, content in _all_exports(demo):
        bundle = to_fhir_bundle(content)
        # (a check-in group is identified by the reading alone and carries no value)
        measurements = [
            o
            for o in _resources(bundle, "Observation")
            if o["status"] != "entered-in-error" and "/" in o["identifier"][0]["value"]
        ]
        expected = {
            f"{reading.id}/{part}": value
            for reading in content.standing_observations
            for part, value in _measured(reading).items()
        }
        seen = [o["identifier"][0]["value"] for o in measurements]
        # Then each standing value is one Observation, with that value, and nothing else is live
        assert sorted(seen) == sorted(expected), label
        for obs in measurements:
            assert _value(obs) == expected[obs["identifier"][0]["value"]], label
            assert obs["status"] in ("final", "corrected"), label


def test_scales_are_text_coded_with_integer_and_boolean_values(demo: Demo) -> None:
    content = demo.content(demo.corrected_session)
    found = _by_identifier(to_fhir_bundle(content))
    (correction,) = [o for o in content.observations if o.corrects_id == demo.corrected_reading]
    for part, value_key, expected in [
        ("moaas", "valueInteger", 4),
        ("rass", "valueInteger", -1),
        ("dissociation", "valueInteger", 1),
        ("nausea", "valueInteger", 2),
        ("suds", "valueInteger", 3),
        ("emesis", "valueBoolean", True),
    ]:
        (obs,) = found[f"{correction.id}/{part}"]
        assert obs[value_key] == expected
        (coding,) = obs["code"]["coding"]
        # Then a local code system names the scale; no LOINC code is claimed for it
        assert coding["system"] == "urn:kapsession:scale" and coding["code"] == part
        assert obs["code"]["text"]


def test_a_corrected_reading_is_corrected_and_a_withdrawn_one_entered_in_error(
    demo: Demo,
) -> None:
    content = demo.content(demo.corrected_session)
    bundle = to_fhir_bundle(content)
    found = _by_identifier(bundle)
    (correction,) = [o for o in content.observations if o.corrects_id == demo.corrected_reading]
    # Then the correction stands as "corrected", with the reason on every resource it makes
    group = found[str(correction.id)][0]
    assert group["status"] == "corrected"
    for reference in group["hasMember"]:
        member = next(
            e["resource"] for e in bundle["entry"] if e["fullUrl"] == reference["reference"]
        )
        assert member["status"] == "corrected"
        assert any(READING_REASON in n["text"] for n in member["note"])
    assert any("larger cuff" in n["text"] for n in group["note"])
    # And the reading it replaced is not exported as a second result
    assert not [key for key in found if key.startswith(str(demo.corrected_reading))]
    # And the withdrawn reading is entered-in-error with the reason
    withdrawn = [
        r for key, rs in found.items() for r in rs if key.startswith(str(demo.voided_reading))
    ]
    assert withdrawn and {r["status"] for r in withdrawn} == {"entered-in-error"}
    assert all(any(VOID_REASON in n["text"] for n in r["note"]) for r in withdrawn)


# --- doses ------------------------------------------------------------------------------------


def test_each_standing_dose_is_a_completed_administration_in_mg(demo: Demo) -> None:
    for label, content in _all_exports(demo):
        bundle = to_fhir_bundle(content)
        rescue = {str(i.id) for i in content.interventions}  # rescue medications (issue 16)
        administrations = {
            a["id"]: a
            for a in _resources(bundle, "MedicationAdministration")
            if a["id"] not in rescue
        }
        completed = {k: a for k, a in administrations.items() if a["status"] == "completed"}
        # Then there is one completed administration per standing dose, and no other
        assert set(completed) == {str(d.id) for d in content.standing_doses}, label
        for dose in content.standing_doses:
            given = completed[str(dose.id)]
            assert given["dosage"]["dose"] == {
                "value": dose.dose_mg,
                "unit": "mg",
                "system": UCUM,
                "code": "mg",
            }, label
            assert given["dosage"]["route"]["text"] == dose.route, label
            assert given["medicationCodeableConcept"]["text"] == dose.medication, label
            assert any(f"Lot number {dose.lot_number}." == n["text"] for n in given["note"])
            assert given["performer"][0]["actor"]["reference"] == f"urn:uuid:{dose.given_by_id}"


def test_corrected_and_withdrawn_doses(demo: Demo) -> None:
    content = demo.content(demo.corrected_session)
    administrations = _resources(to_fhir_bundle(content), "MedicationAdministration")
    by_status: dict[str, list[dict[str, Any]]] = {}
    for a in administrations:
        by_status.setdefault(a["status"], []).append(a)
    # Then the dose with the corrected lot stands, saying why; the original is not repeated
    (given,) = by_status["completed"]
    notes = [n["text"] for n in given["note"]]
    assert "Lot number SPR-5521B." in notes and any(LOT_REASON in n for n in notes)
    assert given["dosage"]["dose"]["value"] == 56
    # And the booster entered in error is marked so, with the reason
    (withdrawn,) = by_status["entered-in-error"]
    assert withdrawn["id"] == str(demo.voided_booster)
    assert any(BOOSTER_REASON in n["text"] for n in withdrawn["note"])
    assert set(by_status) == {"completed", "entered-in-error"}


# --- the document -----------------------------------------------------------------------------


def test_an_unsigned_session_is_a_preliminary_draft(demo: Demo) -> None:
    bundle = to_fhir_bundle(demo.content(demo.corrected_session))
    composition = bundle["entry"][0]["resource"]
    # Then FHIR says preliminary, and a reader sees DRAFT in the title and the narrative
    assert composition["status"] == "preliminary"
    assert composition["title"].startswith("DRAFT")
    assert "DRAFT" in composition["text"]["div"]
    assert bundle["meta"]["tag"][0]["code"] == "draft"
    assert "attester" not in composition


@pytest.mark.parametrize("with_addendum", [False, True])
def test_a_signed_session_is_final_with_its_attesters(demo: Demo, with_addendum: bool) -> None:
    # Given a signed demo session with (or without) a signed addendum
    contents = [
        demo.content(m.id)
        for m in demo.made
        if m.modality == "individual" and m.id != demo.corrected_session
    ]
    content = next(c for c in contents if bool(c.addenda) == with_addendum)
    composition = to_fhir_bundle(content)["entry"][0]["resource"]
    # Then it is final, or amended once an addendum followed (FHIR composition-status)
    assert composition["status"] == ("amended" if with_addendum else "final")
    assert "DRAFT" not in composition["title"]
    # And every signature is an attester with its time, party and mode
    attesters = composition["attester"]
    assert len(attesters) == len(content.signatures)
    for signature, attester in zip(content.signatures, attesters, strict=True):
        assert attester["time"] == signature.signed_at.isoformat().replace("+00:00", "Z")
        assert attester["party"]["reference"] == f"urn:uuid:{signature.staff_id}"
        expected = "professional" if signature.part == "monitoring" else "legal"
        assert attester["mode"] == expected
    # And the session note's sections are the Composition's first sections
    titles = [s["title"] for s in composition["section"]]
    assert content.session_note is not None
    assert titles[: len(content.session_note.sections)] == [
        t for _k, t, _b in content.session_note.sections
    ]
    addenda = [t for t in titles if t.startswith("Addendum")]
    assert len(addenda) == len(content.addenda)


def test_note_text_is_escaped_in_the_narrative(demo: Demo) -> None:
    content = demo.content(demo.made[0].id)
    note = content.session_note
    assert note is not None
    tricky = 'BP <140/90> & "calm" </div><script>alert(1)</script>'
    changed = replace(
        content,
        notes=[
            replace(n, sections=(("plan", "Plan", tricky),)) if n is note else n
            for n in content.notes
        ],
    )
    composition = to_fhir_bundle(changed)["entry"][0]["resource"]
    plan = next(s for s in composition["section"] if s["title"] == "Plan")
    root = ET.fromstring(plan["text"]["div"])
    # Then the text reads as written and no markup was injected
    assert "".join(root.itertext()) == tricky
    assert root.find(f".//{XHTML}script") is None


@pytest.mark.parametrize("include_private", [False, True])
def test_private_notes_only_when_included(demo: Demo, include_private: bool) -> None:
    # Given the first demo session, whose therapist wrote a psychotherapy note
    content = demo.content(demo.made[0].id, include_private=include_private)
    bundle = to_fhir_bundle(content)
    documents = _resources(bundle, "DocumentReference")
    text = _text_of(bundle)
    if not include_private:
        # Then nothing of it is in the file
        assert documents == [] and "supervision" not in text
        assert "Psychotherapy" not in json.dumps(bundle)
        return
    # Then it is a separate DocumentReference, labelled restricted psychotherapy notes
    (document,) = documents
    labels = {(c["system"].rsplit("/", 1)[-1], c["code"]) for c in document["meta"]["security"]}
    assert labels == {("v3-Confidentiality", "R"), ("v3-ActCode", "PSYTHPN")}
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"] == "text/plain; charset=utf-8"
    assert "supervision" in base64.b64decode(attachment["data"]).decode("utf-8")
    # And the Composition points at it from a section saying what it is, without its text
    (section,) = [
        s for s in bundle["entry"][0]["resource"]["section"] if s["title"].startswith("Psycho")
    ]
    assert section["entry"] == [{"reference": f"urn:uuid:{document['id']}"}]
    assert "supervision" not in section["text"]["div"]
    assert bundle["meta"]["security"][0]["code"] == "R"


# --- one participant per document -------------------------------------------------------------


@pytest.mark.parametrize("name", ["Jonah Okafor", "Lena Okafor"])
def test_a_couples_export_holds_nothing_of_the_other_participant(demo: Demo, name: str) -> None:
    couples = demo.session(lambda m: m.modality == "couples")
    content = demo.content(couples.id, participant=name, include_private=True)
    other = next(p for p in content.session.participants if p.id != content.participant.id)
    others_rows = gather(
        demo.context.service.database, couples.id, participant=other.client.full_name
    )
    text = _text_of(to_fhir_bundle(content))
    # Then no name, record number or id of the other participant is anywhere in the file
    assert content.others_redacted
    for word in content.others_redacted:
        assert not re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE), word
    # And none of their doses or readings, while one's own are all there
    theirs = [d.id for d in others_rows.doses] + [o.id for o in others_rows.observations]
    mine = [d.id for d in content.standing_doses] + [o.id for o in content.standing_observations]
    assert theirs and mine
    assert not [row_id for row_id in theirs if str(row_id) in text]
    assert all(str(row_id) in text for row_id in mine)
    assert content.client_name in text
