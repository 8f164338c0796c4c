"""Before a dosing session and its first dose (issue 17): the client's current KAP treatment
consent at the start (or the prescriber's override, a protocol deviation), the screening
answered for each participant, and the prescriber's decisions (proceed or hold) where the
screening failed or the PHQ-9 answered item 9 above zero. The rules of what the dose waits for
are in `dose_gates`; this module writes the entries.

Each entry is a session event committed at once with its audit row, corrected or withdrawn like
every event: a screening answered again is a correction of the standing one (the new answers,
with the reason), a decision or a screening entered in error is withdrawn.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kapsession.domain.clinic_rules import DEFAULT_ROLE_RULES, RoleRules
from kapsession.domain.roles import TeamRole
from kapsession.domain.screening import Checklist, failed_questions, read_checklist
from kapsession.records.entries import EventRecord
from kapsession.records.errors import NotAllowed, StorageError
from kapsession.records.people import ClientRecord
from kapsession.resources import assets_dir
from kapsession.services.consents import ConsentService
from kapsession.services.dose_gates import (
    CONSENT_OVERRIDE,
    DECISION,
    SCREENING,
    Decision,
    Gate,
)
from kapsession.storage.entries import EntryRepository, NewEvent
from kapsession.storage.people import StaffRepository

SCREENING_FILE = "screening.toml"


class ScreeningInvalid(StorageError):
    """Answers or a decision that cannot be saved; the message says what to fix."""


class ConsentMissing(StorageError):
    """A dosing session that cannot start: a client has no current KAP treatment consent.
    `missing`: (client, why) for each."""

    def __init__(self, missing: Sequence[tuple[ClientRecord, str]]) -> None:
        self.missing = tuple(missing)
        names = "; ".join(f"{c.full_name} ({why})" for c, why in self.missing)
        super().__init__(
            f"No current KAP treatment consent for {names}. Record the signed consent with K "
            "on the client list, or the prescriber may start the session anyway with their PIN "
            "and a reason (recorded as a protocol deviation)."
        )


@dataclass(frozen=True)
class ConsentOverride:
    """The prescriber starts a dosing session without current consent: who and why (their PIN
    checked by the caller)."""

    prescriber_id: uuid.UUID
    name: str
    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("Reason: write why the session starts without current consent.")


def screening_label(detail: Mapping[str, object]) -> str:
    failed = failed_questions(detail)
    if not failed:
        return "Screening before the dose: every item passed"
    noun = "item" if len(failed) == 1 else "items"
    return f"Screening before the dose: {len(failed)} {noun} failed — " + "; ".join(failed)


def decision_label(gate: Gate, decision: Decision, reason: str, by: str) -> str:
    what = "the failed screening" if gate is Gate.SCREENING else "PHQ-9 item 9 above zero"
    return f"Prescriber's decision on {what}: {decision.value} — {reason.strip()} ({by})"


class PreDoseService:
    def __init__(
        self,
        entries: EntryRepository,
        staff: StaffRepository,
        consents: ConsentService,
        roles: RoleRules = DEFAULT_ROLE_RULES,
        checklist_path: Path | None = None,
    ) -> None:
        self.entries = entries
        self.staff = staff
        self.consents = consents
        self.roles = roles
        self.checklist_path = checklist_path or assets_dir() / SCREENING_FILE

    # consent at the start --------------------------------------------------------------------
    def missing_consent(
        self, clients: Sequence[ClientRecord], at: datetime
    ) -> list[tuple[ClientRecord, str]]:
        """The clients without a current KAP treatment consent on `at`'s day, with why."""
        statuses = self.consents.statuses([c.id for c in clients], at)
        return [(c, s.why_not) for c, s in zip(clients, statuses, strict=True) if s.why_not]

    def check_override(self, override: ConsentOverride) -> None:
        self._check_prescriber(override.prescriber_id, "start a session without current consent")

    @staticmethod
    def consent_override_event(why: str, override: ConsentOverride) -> NewEvent:
        """The protocol deviation of a participant whose session starts without current
        consent, written with the start (`SessionRepository.start`)."""
        return NewEvent(
            CONSENT_OVERRIDE,
            label=(
                f"Started without current KAP treatment consent ({why}) — on the prescriber's "
                f"override by {override.name}: {override.reason.strip()}"
            ),
            detail={
                "why": why,
                "reason": override.reason.strip(),
                "by": override.name,
                "prescriber_id": str(override.prescriber_id),
            },
        )

    # the screening --------------------------------------------------------------------------
    def checklist(self) -> Checklist:
        """The clinic's checklist as the file says now (ScreeningFileError: its mistake)."""
        return read_checklist(self.checklist_path)

    def record_screening(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        checklist: Checklist,
        answers: Mapping[str, str],
        *,
        at: datetime,
        by: uuid.UUID | None,
        replaces: uuid.UUID | None = None,
        reason: str = "",
    ) -> EventRecord:
        """The participant's answers ("yes"/"no" by item key), every item answered; with
        `replaces`, answered again: a correction of that screening, with the reason."""
        try:
            detail = checklist.detail(answers)
        except ValueError as exc:
            raise ScreeningInvalid(f"Screening NOT saved: {exc}") from None
        label = screening_label(detail)
        if replaces is not None:
            if not reason.strip():
                raise ScreeningInvalid(
                    "Screening NOT saved: write why it is answered again (the earlier answers "
                    "stay on the record)."
                )
            return self.entries.correct_event(
                replaces, reason=reason, recorded_at=at, label=label, detail=detail, by=by
            )
        return self.entries.add_event(
            session_id,
            SCREENING,
            occurred_at=at,
            recorded_at=at,
            participant_id=participant_id,
            label=label,
            detail=detail,
            by=by,
        )

    def record_decision(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        gate: Gate,
        subject_id: uuid.UUID | None,
        decision: Decision,
        *,
        prescriber_id: uuid.UUID,
        reason: str,
        at: datetime,
        by: uuid.UUID | None,
    ) -> EventRecord:
        """The prescriber's decision (their PIN checked by the caller) on the screening
        (`subject_id`: its event; None: no screening could be answered) or the PHQ-9 (its id)."""
        if not reason.strip():
            raise ScreeningInvalid("Decision NOT saved: write the reason for it.")
        member = self._check_prescriber(prescriber_id, "decide on the dose")
        return self.entries.add_event(
            session_id,
            DECISION,
            occurred_at=at,
            recorded_at=at,
            participant_id=participant_id,
            label=decision_label(gate, decision, reason, member),
            detail={
                "gate": gate.value,
                "subject_id": "" if subject_id is None else str(subject_id),
                "decision": decision.value,
                "reason": reason.strip(),
                "by": member,
                "prescriber_id": str(prescriber_id),
            },
            by=by,
        )

    def _check_prescriber(self, staff_id: uuid.UUID, what: str) -> str:
        """The prescriber's name as they sign; NotAllowed for anyone else."""
        member = next((s for s in self.staff.all() if s.id == staff_id), None)
        if member is None or not self.roles.may(TeamRole.PRESCRIBER, member.role):
            raise NotAllowed(
                f"Only a prescriber (a role the clinic's rules let prescribe) can {what}."
            )
        return member.signature_name
