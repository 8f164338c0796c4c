"""A client's course summary (issue 17) from a real SQLite database: the course chart's series
come from the stored questionnaires (an incomplete one marked apart, never at zero) with the
dosing sessions marked; the Markdown and the PDF (read back with pdftotext) hold the plan, the
sessions with their doses, the measures with their change from the first and the chart; the
course's FHIR bundle validates; a client without measures says "No measures recorded."."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from services_support import START
from support.migrated import seed_database
from support.real_tools import require_tool

from kapsession.domain.clock import FakeClock
from kapsession.domain.course_plan import CoursePlan
from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.protocol import Medication, Route
from kapsession.export.course_summary import summary_markdown
from kapsession.paths import Paths, resolve_paths
from kapsession.records.course_summary import NO_MEASURES, course_chart
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.services.context import AppContext, open_context
from kapsession.services.course_summary import CourseSummaryService
from kapsession.services.demo import populate

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC) + timedelta(days=60)
PHQ_FIRST = datetime(2026, 12, 18, 10, 0, tzinfo=UTC)  # before the demo's first session


def _maya(context: AppContext) -> tuple[ClientRecord, StaffRecord]:
    service = context.service
    (maya,) = [c for c in service.clients.search("Fischer") if c.given_name == "Maya"]
    return maya, service.staff.active()[0]


@pytest.fixture(scope="module")
def course_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the demo's sessions (Maya Fischer: three signed sessions with a dose
    each, 21 Dec, 28 Dec, 4 Jan) and Maya's questionnaires: PHQ-9 18, then one with item 5
    unanswered, then 8; a GAD-7 of 10. Made once for the module (the demo takes seconds);
    each test that asks for `course` opens its own copy (`data_paths`)."""
    folder = tmp_path_factory.mktemp("course") / "data"
    paths = resolve_paths(data_dir=folder, environ={})
    seed_database(paths)
    context = open_context(paths, clock=FakeClock(START))
    try:
        _populate(context)
    finally:
        context.close()
    return folder


@pytest.fixture
def data_paths(tmp_path: Path, request: pytest.FixtureRequest) -> Paths:
    """The test's data folder (as tests/services/conftest.py makes it); a copy of
    `course_folder` when the test asks for the `course`."""
    folder = tmp_path / "data"
    if "course" in request.fixturenames:
        shutil.copytree(request.getfixturevalue("course_folder"), folder)
    return resolve_paths(data_dir=folder, environ={})


@pytest.fixture
def course(context: AppContext) -> CourseSummaryService:
    """The course of `course_folder`, on the test's own copy of it."""
    return CourseSummaryService(context.service.database, FakeClock(NOW))


def _populate(context: AppContext) -> None:
    populate(context.service, NOW)
    maya, nurse = _maya(context)
    measures = context.service.measures
    answers = (
        (PHQ_FIRST, "phq9", [2] * 9),
        (PHQ_FIRST + timedelta(days=7), "phq9", [1, 1, 1, 1, None, 1, 1, 1, 0]),
        (PHQ_FIRST + timedelta(days=21), "phq9", [1] * 8 + [0]),
        (PHQ_FIRST, "gad7", [2, 2, 2, 1, 1, 1, 1]),
    )
    for at, key, values in answers:
        measures.save(
            maya.id, key, dict(enumerate(values, 1)), administered_at=at, at=at, by=nurse.id
        )


def test_the_chart_series_are_the_stored_measures_with_the_dosing_sessions(
    context: AppContext, course: CourseSummaryService
) -> None:
    # Given Maya's stored questionnaires; When her course chart's data is made
    maya, _nurse = _maya(context)
    summary = course.summary(maya.id)
    chart = course_chart(summary.history)
    # Then there is a PHQ-9 and a GAD-7 series (no PCL-5 was given)
    assert [s.instrument.name for s in chart.series] == ["PHQ-9", "GAD-7"]
    phq, gad = chart.series
    # And the PHQ-9's scored points are 18 then 8; the one with item 5 missing is apart, unscored
    assert [(p.at, p.total) for p in phq.scored] == [
        (PHQ_FIRST, 18),
        (PHQ_FIRST + timedelta(days=21), 8),
    ]
    (missing,) = phq.incomplete
    assert missing.total is None and missing.missing == (5,)
    assert [p.total for p in gad.points] == [10]
    # And each of her three sessions with a dose is a dosing session on the chart
    assert chart.dosing == tuple(s.held_at for s in summary.history.sessions)
    assert len(chart.dosing) == 3


def test_the_markdown_has_the_plan_sessions_doses_and_measures(
    context: AppContext, course: CourseSummaryService
) -> None:
    maya, _nurse = _maya(context)
    # When the summary is written as Markdown
    text = summary_markdown(course.summary(maya.id), tz=UTC)
    # Then it names her, her course plan, her sessions with their doses
    assert text.startswith("# Course summary: Maya Fischer\n")
    assert "- **Course:** Course 1" in text
    assert "- **Dosing sessions planned:** not recorded" in text  # no course plan saved
    assert "- **Sessions held:** 3 (3 with a dose)" in text
    rows = [line for line in text.splitlines() if "Sublingual KAP, 3 hours" in line]
    assert len(rows) == 3
    assert rows[0].startswith("| 21 Dec 2026 | Course 1 · 1 | Dosing |")
    assert "| initial 200 mg sublingual | 200 |" in rows[0]
    # And the measures with their severity and change from the first; the incomplete one unscored
    assert (
        "| PHQ-9 | 18 Dec 2026 | outside a session | 18 | moderately severe (item 9 above zero) "
        "| first scored |" in text
    )
    assert (
        "| PHQ-9 | 25 Dec 2026 | outside a session | not scored | incomplete: item 5 "
        "unanswered | — |" in text
    )
    assert "| PHQ-9 | 8 Jan 2027 | outside a session | 8 | mild | -10 from 18: response |" in text
    assert "| GAD-7 | 18 Dec 2026 | outside a session | 10 | moderate | first scored |" in text
    assert NO_MEASURES not in text


def test_the_pdf_reads_back_with_the_measures_and_the_chart(
    context: AppContext, course: CourseSummaryService, tmp_path: Path, qapp: object
) -> None:
    pdftotext = require_tool("pdftotext", "poppler-utils")
    from kapsession.ui.course_chart import course_chart_for

    maya, _nurse = _maya(context)
    out = tmp_path / "summary.pdf"
    # When the summary is exported as a PDF with its chart
    course.export(maya.id, "pdf", out, chart_for=course_chart_for)
    text = subprocess.run(
        [pdftotext, "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    # Then its text has the title, the sessions' doses, the measures and the chart's caption
    assert "Course summary: Maya Fischer" in text
    assert "initial 200 mg sublingual" in text
    assert "-10 from 18: response" in text
    assert "incomplete: item 5" in text
    assert "COURSE CHART" in text
    # And the chart is an image on the page
    images = subprocess.run(
        ["pdfimages", "-list", str(out)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert len(images) == 1


def test_the_course_bundle_of_measures_validates_and_leaves_the_incomplete_one_unscored(
    context: AppContext, course: CourseSummaryService
) -> None:
    from kapsession.export.fhir import measures_bundle

    maya, _nurse = _maya(context)
    # When the course's measures are exported as FHIR
    bundle = measures_bundle(course.summary(maya.id))
    # Then the bundle validates against the R4B models
    Bundle.model_validate(bundle)
    resources = [e["resource"] for e in bundle["entry"]]
    responses = [r for r in resources if r["resourceType"] == "QuestionnaireResponse"]
    totals = [r for r in resources if r["resourceType"] == "Observation"]
    # And every questionnaire is a response; only the complete ones have a total
    assert len(responses) == 4
    assert sorted(r["status"] for r in responses) == ["completed"] * 3 + ["in-progress"]
    assert sorted(t["valueInteger"] for t in totals) == [8, 10, 18]
    (incomplete,) = [r for r in responses if r["status"] == "in-progress"]
    item5 = next(i for i in incomplete["item"] if i["linkId"] == "5")
    assert "answer" not in item5
    assert not [t for t in totals if t["derivedFrom"][0]["reference"].endswith(incomplete["id"])]


def test_a_client_without_measures_has_a_summary_saying_so(
    context: AppContext, clock: FakeClock
) -> None:
    # Given a new client (their course made with them), no session and no questionnaire
    client = context.service.add_client("Sam", "Reyes", at=clock.now())
    service = CourseSummaryService(context.service.database, clock)
    summary = service.summary(client.id)
    # Then the chart is empty and the summary says no measures are recorded
    assert course_chart(summary.history).empty
    text = summary_markdown(summary)
    assert "## Outcome measures\n\nNo measures recorded." in text
    assert "No sessions yet." in text
    assert "- **Sessions held:** 0 (0 with a dose)" in text  # the course made with the client


def test_without_a_plan_its_fields_say_not_recorded_and_the_course_starts_with_its_first_session(
    context: AppContext, course: CourseSummaryService
) -> None:
    # Given the demo's Maya: no course plan saved, her course row dated after her sessions
    maya, _nurse = _maya(context)
    summary = course.summary(maya.id)
    (plan,) = summary.plans
    assert plan.plan is None
    # When the summary is written as Markdown
    text = summary_markdown(summary, tz=UTC)
    # Then every field of the plan says "not recorded"
    for label in ("Indication", "Dosing sessions planned", "Medication and route"):
        assert f"- **{label}:** not recorded" in text
    assert "- **Standing order:** not recorded" in text
    # And the course started on the day of her first session
    assert "- **Started:** 21 Dec 2026" in text


def test_the_plan_fields_come_from_the_course_plan(
    context: AppContext, course: CourseSummaryService
) -> None:
    # Given Maya's course plan, saved with a standing order by a prescriber
    maya, nurse = _maya(context)
    prescriber = context.service.add_staff("Dr Ada Lee", "prescriber", at=NOW)
    order = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 200, None, 1, 100, (30, 45), 300)
    plan = CoursePlan(
        indication="Treatment-resistant depression",
        dosing_sessions=4,
        medication=Medication.KETAMINE,
        route=Route.SUBLINGUAL,
        standing_order=order,
        ordered_by=prescriber.id,
    )
    context.service.course.save_plan(maya.id, plan, at=NOW, by=nurse.id, based_on=None)
    # When the summary is written as Markdown
    text = summary_markdown(course.summary(maya.id), tz=UTC)
    # Then the plan's fields are the plan's
    assert "- **Indication:** Treatment-resistant depression" in text
    assert "- **Dosing sessions planned:** 4" in text
    assert "- **Medication and route:** ketamine, sublingual" in text
    assert (
        f"- **Standing order:** {order.summary()}, ordered by {prescriber.signature_name}" in text
    )


def test_an_integration_row_names_the_dosing_session_it_follows(
    context: AppContext, course: CourseSummaryService
) -> None:
    # Given Maya's three dosing sessions and an integration session after the last one
    maya, nurse = _maya(context)
    last = course.summary(maya.id).history.sessions[-1]
    therapist = next(s for s in context.service.staff.active() if s.role == "therapist")
    integration = context.service.start_session(
        protocol_key="integration",
        client_ids=[maya.id],
        modality="individual",
        at=NOW,
        therapist_id=therapist.id,
        nurse_id=nurse.id,
        follows={maya.id: last.session_id},
        by=nurse.id,
    )
    context.service.end_session(integration.id, at=NOW + timedelta(hours=1), by=nurse.id)
    # When the summary is written as Markdown
    text = summary_markdown(course.summary(maya.id), tz=UTC)
    # Then the dosing rows say Dosing and the integration row the session it follows
    rows = [line for line in text.splitlines() if line.startswith("| ") and "Course 1 ·" in line]
    assert [r.split(" | ")[2] for r in rows[:3]] == ["Dosing"] * 3
    held = last.held_at.astimezone(UTC)
    after = f"Integration, after the dosing session of {held.day} {held:%b %Y}"
    assert rows[3].split(" | ")[2] == after
    assert "| no dose |" in rows[3]
