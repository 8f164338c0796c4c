"""The prescriber's order in the exports (issue 16): what was ordered, by whom and when,
whether it was a verbal order and its countersignature, and every dose given outside it with
the prescriber's override. One section for the note (Markdown, text) and the printed record,
and the lines the CSV and FHIR exports take their words from."""

from __future__ import annotations

from datetime import tzinfo

from kapsession.domain.corrections import effective
from kapsession.export.content import ExportContent
from kapsession.export.document import Lines, Paragraph, Section
from kapsession.export.times import clock_time, date_time_text
from kapsession.records.orders import DoseOrderRecord

COUNTERSIGNED = "order_countersigned"
OVERRIDE = "dose_override"
NO_ORDER_OVERRIDES = (
    "No order recorded: each dose needed the prescriber's override (their PIN and a reason):"
)
NO_ORDER_NO_DOSE = "No order recorded, and no dose given."


def countersignature(content: ExportContent, order: DoseOrderRecord, tz: tzinfo | None) -> str:
    """How a verbal order stands: countersigned (by whom, when) or still awaiting it."""
    for event in effective(content.events):
        if event.kind == COUNTERSIGNED and event.detail.get("order_id") == str(order.id):
            who = event.detail.get("by") or content.staff_name(event.recorded_by_id)
            return f"countersigned by {who} at {date_time_text(event.occurred_at, tz)}"
    return "awaiting the prescriber's countersignature"


def order_line(content: ExportContent, order: DoseOrderRecord, tz: tzinfo | None) -> str:
    """E.g. "200 mg SL · booster ≤1 × 100 mg at T+30–45 · max 300 mg — ordered by Dr X,
    21 Dec 2026, 13:55 (verbal order, countersigned by Dr X at …)"."""
    text = (
        f"{order.order.summary()} — ordered by {content.staff_name(order.ordered_by_id)}, "
        f"{date_time_text(order.occurred_at, tz)}"
    )
    if order.order.verbal:
        text += f" ({countersignature(content, order, tz)})"
    return text


def override_lines(content: ExportContent, tz: tzinfo | None) -> list[str]:
    """Each dose given outside the order or a protocol limit, with who overrode it and why."""
    lines = []
    for event in effective(content.events):
        if event.kind != OVERRIDE:
            continue
        why = "; ".join(str(d.get("message", "")) for d in event.detail.get("deviations", []))
        lines.append(
            f"{clock_time(event.occurred_at, tz)} dose outside the order, overridden by "
            f"{event.detail.get('by', '')}: {event.detail.get('reason', '')} ({why})"
        )
    return lines


def order_section(content: ExportContent, tz: tzinfo | None = None) -> Section:
    """The "Prescriber's order" section: the standing order, its earlier versions, the
    overrides; a session without an order says so: each of its doses was given on the
    prescriber's override, listed."""
    standing = content.standing_order
    history = _history_lines(content, tz)
    overrides = override_lines(content, tz)
    if standing is None:
        said = NO_ORDER_OVERRIDES if overrides else NO_ORDER_NO_DOSE
        listed = (*history, *overrides)
        return Section(
            "Prescriber's order",
            (Paragraph((said,)), *((Lines(listed),) if listed else ())),
        )
    lines = (order_line(content, standing, tz), *history, *overrides)
    return Section("Prescriber's order", (Lines(lines),))


def _history_lines(content: ExportContent, tz: tzinfo | None) -> list[str]:
    """Each correction or withdrawal of an order: when, what it was, why."""
    lines = []
    by_id = {o.id: o for o in content.orders}
    for row in content.orders:
        was = None if row.corrects_id is None else by_id.get(row.corrects_id)
        if was is None:
            continue
        what = "taken back" if row.voids else "corrected"
        lines.append(
            f"Order {what} at {clock_time(row.recorded_at, tz)}: it was {was.order.summary()}"
            f" — {row.correction_reason or ''}"
        )
    return lines
