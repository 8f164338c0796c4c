"""Outcome measures in a session's FHIR bundle (issue 17): the client's questionnaires given in
the session, or outside any session on its day, are QuestionnaireResponses with their item
answers and, when complete, an Observation of the total (LOINC for PHQ-9 and GAD-7, the local
scale system for PCL-5); an incomplete one is in progress with no total; the bundle validates
against the R4B models and its Composition lists them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from kapsession.export.fhir import (
    MEASURE_CODES,
    MEASURE_SECTION_TITLE,
    SCALE_SYSTEM,
    to_fhir_bundle,
)
from kapsession.services.context import AppContext
from kapsession.services.export_content import gather

if TYPE_CHECKING:
    from conftest import DemoData  # the `demo_db` fixture's value (tests/export/conftest.py)

LOINC = "http://loinc.org"
EXPORTED_AT = datetime(2027, 1, 25, 14, 5, tzinfo=UTC)  # just after the demo's NOW


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


@pytest.fixture
def measured(demo_db: DemoData, demo_copy: AppContext) -> tuple[AppContext, uuid.UUID]:
    """The unsigned demo session's client with: a PHQ-9 of 14 given in the session, a GAD-7
    with item 2 unanswered and a PCL-5 of 40 given outside any session that morning, and a
    PHQ-9 given three days before (not this session's)."""
    service = demo_copy.service
    session = service.sessions.get(demo_db.unsigned.id)
    participant = session.participants[0]
    client = participant.client.id
    nurse = service.staff.active()[0]
    started = session.started_at or session.created_at
    morning = started - timedelta(minutes=30)
    phq = [2, 2, 2, 2, 2, 2, 1, 1, 0]
    gad = [1, None, 1, 1, 1, 1, 1]
    pcl = [2] * 20
    saves: list[tuple[str, list[int | None], Any, uuid.UUID | None]] = [
        ("phq9", list(phq), started + timedelta(minutes=5), session.id),
        ("gad7", gad, morning, None),
        ("pcl5", list(pcl), morning, None),
        ("phq9", [3] * 9, started - timedelta(days=3), None),
    ]
    for key, answers, at, session_id in saves:
        service.measures.save(
            client,
            key,
            dict(enumerate(answers, 1)),
            administered_at=at,
            at=at,
            by=nurse.id,
            session_id=session_id,
        )
    return demo_copy, session.id


def test_the_sessions_measures_are_responses_with_their_totals(
    measured: tuple[AppContext, uuid.UUID],
) -> None:
    context, session_id = measured
    # When the session is exported as FHIR
    content = gather(context.service.database, session_id, exported_at=EXPORTED_AT)
    bundle = to_fhir_bundle(content)
    # Then the bundle validates
    Bundle.model_validate(bundle)
    responses = _resources(bundle, "QuestionnaireResponse")
    # And it holds the three questionnaires of that day, not the one three days before
    assert len(responses) == 3
    by_form = {r["questionnaire"]: r for r in responses}
    assert sorted(by_form) == [
        "http://loinc.org/q/44249-1",
        "http://loinc.org/q/69737-5",
        "urn:kapsession:questionnaire:pcl5",
    ]
    phq = by_form["http://loinc.org/q/44249-1"]
    gad = by_form["http://loinc.org/q/69737-5"]
    pcl = by_form["urn:kapsession:questionnaire:pcl5"]
    assert pcl["status"] == "completed" and len(pcl["item"]) == 20
    # And each item answer is there; the PHQ-9 given in the session points at its encounter
    assert [i["answer"][0]["valueInteger"] for i in phq["item"]] == [2, 2, 2, 2, 2, 2, 1, 1, 0]
    assert phq["status"] == "completed"
    assert phq["encounter"]["reference"] == f"urn:uuid:{content.participant.id}"
    assert "encounter" not in gad
    # And the GAD-7 with item 2 unanswered is in progress, the item without an answer
    assert gad["status"] == "in-progress"
    assert "answer" not in next(i for i in gad["item"] if i["linkId"] == "2")
    # And the complete ones have a total Observation, the incomplete one none
    totals = {
        o["code"]["coding"][0]["code"]: o
        for o in _resources(bundle, "Observation")
        if o.get("derivedFrom")
    }
    assert sorted(totals) == ["44261-6", "pcl5-total"]
    assert totals["44261-6"]["code"]["coding"][0]["system"] == LOINC
    assert totals["44261-6"]["valueInteger"] == 14
    assert totals["44261-6"]["interpretation"] == [{"text": "moderate"}]
    assert totals["44261-6"]["derivedFrom"] == [{"reference": f"urn:uuid:{phq['id']}"}]
    assert totals["pcl5-total"]["code"]["coding"][0]["system"] == SCALE_SYSTEM
    assert totals["pcl5-total"]["valueInteger"] == 40
    # And the Composition's measures section lists them and points at each resource
    (composition,) = _resources(bundle, "Composition")
    (section,) = [s for s in composition["section"] if s["title"] == MEASURE_SECTION_TITLE]
    referenced = {e["reference"] for e in section["entry"]}
    assert {f"urn:uuid:{r['id']}" for r in responses} <= referenced
    assert "GAD-7 incomplete (item 2 unanswered), not scored" in section["text"]["div"]


def test_a_session_without_measures_has_no_measures_section(demo_db: DemoData) -> None:
    # Given a demo session whose client has no questionnaire; When it is exported as FHIR
    content = gather(demo_db.context.service.database, demo_db.first.id, exported_at=EXPORTED_AT)
    bundle = to_fhir_bundle(content)
    # Then nothing of the measures is in it
    assert not _resources(bundle, "QuestionnaireResponse")
    (composition,) = _resources(bundle, "Composition")
    assert MEASURE_SECTION_TITLE not in [s["title"] for s in composition["section"]]


# LOINC's long common names for the four codes (clinical-sources.md §8 gives the codes; the
# names as published FHIR profiles carry them, e.g. the German Medical Informatics Initiative's
# PRO module). An EHR that checks displays rejects a near miss such as GAD-7's "[Reported]".
LOINC_NAMES = {
    "44249-1": "PHQ-9 quick depression assessment panel [Reported.PHQ]",
    "44261-6": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
    "69737-5": "Generalized anxiety disorder 7 item (GAD-7)",
    "70274-6": "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
}


def test_the_loinc_codes_carry_loinc_s_own_names() -> None:
    # Given the codes the export writes for the PHQ-9 and the GAD-7
    written = {
        code: display
        for codes in MEASURE_CODES.values()
        for system, code, display in (codes.panel, codes.total)
        if system == LOINC
    }
    # Then each LOINC code has LOINC's name for it
    assert written == LOINC_NAMES
