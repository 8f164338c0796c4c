"""A discharge on the prescriber's override in the exports (issue 16): the protocol deviation
it was recorded with, in one wording for every format: the minimum not waited and the time
actually waited, what else only the prescriber may pass, who decided and why."""

from __future__ import annotations

from datetime import datetime, tzinfo

from kapsession.domain.corrections import EntryState, effective, entry_states
from kapsession.export.content import ExportContent
from kapsession.export.times import clock_time
from kapsession.records.entries import DischargeAssessmentRecord, EventRecord

DISCHARGE_DEVIATION = "discharge_deviation"


def discharge_deviation(
    content: ExportContent, discharge: DischargeAssessmentRecord
) -> EventRecord | None:
    """The standing deviation saved with this discharge (same participant, same moment)."""
    for event in effective(content.events):
        if (
            event.kind == DISCHARGE_DEVIATION
            and event.participant_id == discharge.participant_id
            and event.occurred_at == discharge.occurred_at
        ):
            return event
    return None


def discharge_withdrawn(content: ExportContent, discharge: DischargeAssessmentRecord) -> bool:
    """The discharge's event was taken back (entered in error): the assessment is no
    discharge, and its deviation went with it."""
    states = entry_states(content.events)
    return any(
        e.kind == "discharge"
        and e.detail.get("assessment_id") == str(discharge.id)
        and states[e.id][0] is EntryState.WITHDRAWN
        for e in content.events
    )


def shortfall_texts(event: EventRecord, tz: tzinfo | None) -> list[str]:
    """ "30 min after the last dose (14:10); the protocol's minimum is 60 min", and what else
    only the prescriber may pass, in the export's time zone."""
    texts = []
    for s in event.detail.get("shortfalls", []):
        anchor = datetime.fromisoformat(str(s.get("anchor_at")))
        texts.append(
            f"{s.get('waited_min')} min after {s.get('counted_from')} "
            f"({clock_time(anchor, tz)}); the protocol's minimum is "
            f"{float(s.get('minimum_min', 0)):g} min"
        )
    texts += [str(t) for t in event.detail.get("other", [])]
    return texts


def deviation_text(event: EventRecord, tz: tzinfo | None) -> str:
    """ "Discharged 30 min after the last dose (14:10); the protocol's minimum is 60 min — on
    the prescriber's override by Ines Moreau, NP: transfer to hospital"."""
    what = "; ".join(shortfall_texts(event, tz)) or "before the discharge check allows"
    return (
        f"Discharged {what} — on the prescriber's override by {event.detail.get('by', '')}: "
        f"{event.detail.get('reason', '')}"
    )
