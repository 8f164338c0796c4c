"""Before the dose in the exports (issue 17): the screening answered for the participant, the
prescriber's decisions (proceed or hold, with the reason) on a failed screening or PHQ-9 item 9
above zero, and a session started without current KAP treatment consent on the prescriber's
override (a protocol deviation). One short section for the note (Markdown, text) and the
printed record; every version is listed, corrected and withdrawn ones said so."""

from __future__ import annotations

from datetime import tzinfo

from kapsession.domain.corrections import EntryState, entry_states
from kapsession.domain.screening import answer_text
from kapsession.export.content import ExportContent
from kapsession.export.document import Lines, Section
from kapsession.export.times import clock_time
from kapsession.records.entries import EventRecord

SCREENING = "screening"
DECISION = "dose_gate_decision"
CONSENT_OVERRIDE = "consent_override"
KINDS = (CONSENT_OVERRIDE, SCREENING, DECISION)
TITLE = "Consent and screening before the dose"


def _state_text(state: EntryState, reason: str | None) -> str:
    if state is EntryState.WITHDRAWN:
        return f" [withdrawn: {reason or ''}]"
    if state is EntryState.AMENDED:
        return f" [answered again: {reason or ''}]"
    return ""


def screening_line(event: EventRecord, tz: tzinfo | None) -> str:
    """ "14:05 Screening (checklist 2026-12): every item passed", or the failed answers."""
    answers = event.detail.get("answers", [])
    failed = [a for a in answers if not a.get("passed")]
    version = event.detail.get("checklist_version", "")
    head = f"{clock_time(event.occurred_at, tz)} Screening (checklist {version}): "
    if not failed:
        return head + f"every item passed ({len(answers)} items)"
    passed = len(answers) - len(failed)
    return head + "; ".join(answer_text(a) for a in failed) + f"; {passed} other items passed"


def event_lines(events: list[EventRecord], tz: tzinfo | None) -> list[str]:
    """The section's lines, in time order, each version with its state."""
    chosen = [e for e in events if e.kind in KINDS and not e.voids]
    states = entry_states(events)
    lines = []
    for event in chosen:
        state, reason = states[event.id]
        if event.kind == SCREENING:
            text = screening_line(event, tz)
        else:
            text = f"{clock_time(event.occurred_at, tz)} {event.label}"
            if event.kind == CONSENT_OVERRIDE:
                text = f"{clock_time(event.occurred_at, tz)} Protocol deviation: {event.label}"
        lines.append(text + _state_text(state, reason))
    return lines


def screening_section(content: ExportContent, tz: tzinfo | None = None) -> Section | None:
    """The section, or None for a session with none of these (one from before them)."""
    lines = event_lines(list(content.events), tz)
    if not lines:
        return None
    return Section(TITLE, (Lines(tuple(lines)),))


def screening_sections(content: ExportContent, tz: tzinfo | None = None) -> tuple[Section, ...]:
    """The section as a sequence to put in a document: none when there is nothing to say."""
    section = screening_section(content, tz)
    return () if section is None else (section,)
