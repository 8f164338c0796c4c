"""Consent and the screening before the dose in the exports (issue 17): the Markdown note and
the printed record (PDF) have a short section with the screening's failed answers, the
prescriber's decisions with who and why (a withdrawn one marked), and a start without current
consent as a protocol deviation; the CSV events mark that deviation too."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from test_export_discharge_deviation import pdf_text

from kapsession.export.csv_export import events_csv
from kapsession.export.rems import rems_data
from kapsession.export.text import to_markdown
from kapsession.services.context import AppContext
from kapsession.services.dose_gates import Decision, Gate
from kapsession.services.export_content import gather
from kapsession.services.pre_dose import ConsentOverride

OVERRIDE_REASON = "Signed form at reception, not yet entered"


def test_screening_decisions_and_a_start_without_consent_are_in_the_exports(
    demo_copy: AppContext, tmp_path: Path, qapp: object
) -> None:
    # Given a new client without consent, started on the prescriber's override; their screening
    # failed on the escort, the prescriber held, withdrew that, then proceeded
    service = demo_copy.service
    staff = service.staff.active()
    prescriber = next(s for s in staff if s.role == "prescriber")
    therapist = next(s for s in staff if s.role == "therapist")
    nurse = next(s for s in staff if s.role == "nurse")
    client = service.add_client("Noor", "Haddad", at=demo_copy.clock.now())
    at = demo_copy.clock.now()
    record = service.start_dosing_session(
        protocol_key="intranasal-esketamine", client_ids=[client.id], modality="individual", at=at,
        consent_override=ConsentOverride(prescriber.id, prescriber.signature_name, OVERRIDE_REASON),
        therapist_id=therapist.id, nurse_id=nurse.id, by=therapist.id,
    )  # fmt: skip
    pid = record.participants[0].id
    checklist = service.pre_dose.checklist()
    answers = {i.key: i.passes for i in checklist.items} | {"escort-transport": "no"}
    later = at + timedelta(minutes=5)
    screening = service.pre_dose.record_screening(
        record.id, pid, checklist, answers, at=later, by=nurse.id
    )
    pre = service.pre_dose
    held = pre.record_decision(
        record.id, pid, Gate.SCREENING, screening.id, Decision.HOLD, prescriber_id=prescriber.id,
        reason="Escort not here", at=later, by=prescriber.id,
    )  # fmt: skip
    service.entries.correct_event(
        held.id, reason="Entered before the escort called", recorded_at=later, voids=True
    )
    pre.record_decision(
        record.id, pid, Gate.SCREENING, screening.id, Decision.PROCEED,
        prescriber_id=prescriber.id, reason="Escort on the way", at=later, by=prescriber.id,
    )  # fmt: skip
    content = gather(service.database, record.id)
    who = prescriber.signature_name
    # Then the Markdown note has the section: the deviation, the failed answer, the decisions
    markdown = to_markdown(content)
    section = markdown[markdown.index("Consent and screening before the dose") :]
    section = section[: section.index("\n#")]
    assert (
        "Protocol deviation: Started without current KAP treatment consent (none recorded) — "
        f"on the prescriber's override by {who}: {OVERRIDE_REASON}"
    ) in section
    assert (
        "Escort and transport home confirmed (no driving today)? — no (fails: passes when yes)"
        "; 9 other items passed"
    ) in section
    (hold,) = [line for line in section.splitlines() if "screening: hold" in line]
    assert f"hold — Escort not here ({who})" in hold
    assert "withdrawn: Entered before the escort called" in hold  # (Markdown escapes its [ ])
    assert (
        f"Prescriber's decision on the failed screening: proceed — Escort on the way ({who})"
        in section
    )
    # And the printed record has the same section
    folder = Path(os.environ.get("KAPSESSION_TEST_SHOTS") or tmp_path)
    printed = pdf_text(content, folder, "record-screening.pdf")
    assert "Consent and screening before the dose" in printed
    assert "proceed — Escort on the way" in printed and OVERRIDE_REASON in printed
    # And the CSV events and the REMS form list the start without consent as a deviation
    (row,) = [line for line in events_csv(content).splitlines() if "consent_override" in line]
    assert "protocol_deviation:consent_override" in row and OVERRIDE_REASON in row
    assert any(OVERRIDE_REASON in d for d in rems_data(content).deviations)


def test_a_session_from_before_screening_has_no_such_section(demo_copy: AppContext) -> None:
    # Given a session with none of these entries (as one from before issue 17)
    service = demo_copy.service
    staff = service.staff.active()
    client = service.clients.search("")[0]
    record = service.start_session(
        protocol_key="sublingual-kap-3h", client_ids=[client.id], modality="individual",
        at=demo_copy.clock.now(), therapist_id=next(s for s in staff if s.role == "therapist").id,
        nurse_id=next(s for s in staff if s.role == "nurse").id,
    )  # fmt: skip
    # Then its note says nothing about it
    assert "Consent and screening" not in to_markdown(gather(service.database, record.id))
