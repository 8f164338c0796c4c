"""A client's course summary (issue 17) as a document: the plan, the sessions with their doses,
the outcome measures (totals, severity, change from the first) and, in print, the course chart.

One document model (`document.py`) written twice: Markdown (`document_text.markdown`) and the
PDF's body (`document_html.html` laid out by QTextDocument and painted page by page on a
QPdfWriter with the record's header, footer and page numbers, `print_style.pdf_bytes`). The
chart is drawn by the caller (the UI layer owns QtCharts): `chart_for(chart)(width_px,
height_px) -> QImage` at print resolution; Markdown has no chart.

The plan is a block of labelled fields from `PLAN_FIELDS`, one line per field of the course
plan: a field the plan gains later is one more line there. The sessions' columns are a table
(`SESSION_COLUMNS`) in the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from kapsession.domain.protocol import SESSION_TYPE_NAMES
from kapsession.export.document import (
    Align,
    Block,
    Cell,
    Column,
    Document,
    Emphasis,
    Field,
    Fields,
    Figure,
    Heading,
    Notice,
    Paragraph,
    Row,
    Section,
    Table,
    Text,
    span,
)
from kapsession.export.document_text import markdown
from kapsession.export.times import date_time_text, day_text, zone_text
from kapsession.records.course_summary import (
    NO_MEASURES,
    CourseChart,
    CoursePlan,
    CourseSummary,
    SummaryLine,
    course_chart,
    summary_lines,
)
from kapsession.records.entries import DoseRecord
from kapsession.records.history import HistorySession
from kapsession.records.sessions import SessionStatus

CHART_URL = "kapsession://course-chart"
CHART_ASPECT = 0.42  # height / width of the chart on the page
NONE = "—"

# --- the plan -----------------------------------------------------------------------------------


def _day(value: Any) -> str:
    return f"{value.day} {value:%b %Y}"


# (label, the field's text) per field of the course plan, in the order printed.
NOT_RECORDED = "not recorded"  # a field of the course plan when no plan was recorded


def _standing_order(p: CoursePlan) -> str:
    if p.plan is None:
        return NOT_RECORDED
    if p.plan.standing_order is None:
        return "none — each session's order is given at its start"
    by = f", ordered by {p.prescriber}" if p.prescriber else ""
    return p.plan.standing_order.summary() + by


PLAN_FIELDS: tuple[tuple[str, Callable[[CoursePlan], str]], ...] = (
    ("Course", lambda p: p.title),
    ("Started", lambda p: _day(p.started_on)),
    ("Indication", lambda p: p.plan.indication if p.plan else NOT_RECORDED),
    (
        "Dosing sessions planned",
        lambda p: str(p.plan.dosing_sessions) if p.plan else NOT_RECORDED,
    ),
    (
        "Medication and route",
        lambda p: f"{p.plan.medication.value}, {p.plan.route.value}" if p.plan else NOT_RECORDED,
    ),
    ("Standing order", _standing_order),
)


def plan_blocks(summary: CourseSummary) -> list[Block]:
    if not summary.plans:
        return [Paragraph(("No course plan recorded.",), Emphasis.MUTED)]
    blocks: list[Block] = []
    held = summary.history.sessions
    for plan in summary.plans:
        ours = [s for s in held if s.course_id == plan.id]
        dosing = sum(1 for s in ours if s.dose_count > 0)
        items = [Field(label, (text(plan) or NONE,)) for label, text in PLAN_FIELDS]
        items.append(Field("Sessions held", (f"{len(ours)} ({dosing} with a dose)",)))
        blocks.append(Fields(tuple(items), per_row=2, widths=(18, 32, 18, None)))
    return blocks


# --- the sessions -------------------------------------------------------------------------------


def dose_text(dose: DoseRecord) -> str:
    """ "initial 100 mg sublingual", "booster 2 devices" """
    if dose.dose_mg is not None:
        amount = f"{dose.dose_mg:g} mg"
    elif dose.device_count is not None:
        amount = f"{dose.device_count} device{'' if dose.device_count == 1 else 's'}"
    else:
        amount = "amount not recorded"
    return " ".join(p for p in (dose.kind.value, amount, dose.route or "") if p)


def _course_number(s: HistorySession) -> str:
    if s.course_title is None:
        return NONE
    return f"{s.course_title} · {s.session_number}" if s.session_number else s.course_title


@dataclass(frozen=True)
class SessionColumn:
    column: Column
    text: Callable[[CourseSummary, HistorySession, tzinfo | None], str]


def _session_type(c: CourseSummary, s: HistorySession, tz: tzinfo | None) -> str:
    """ "Dosing"; "Integration, after the dosing session of 21 Dec 2026" (issue 17)."""
    text = SESSION_TYPE_NAMES[c.kind_of(s).session_type]
    followed = c.followed_by(s)
    if followed is not None:
        text += f", after the dosing session of {_day(followed.held_at.astimezone(tz))}"
    return text


SESSION_COLUMNS: tuple[SessionColumn, ...] = (
    SessionColumn(Column("Date", 13), lambda _c, s, tz: _day(s.held_at.astimezone(tz))),
    SessionColumn(Column("Course · no.", 12), lambda _c, s, _tz: _course_number(s)),
    SessionColumn(Column("Type", 10), _session_type),
    SessionColumn(Column("Protocol", 18), lambda _c, s, _tz: s.protocol_name),
    SessionColumn(Column("Modality", 11), lambda _c, s, _tz: s.modality),
    SessionColumn(Column("Status", 7), lambda _c, s, _tz: s.status_label),
    SessionColumn(
        Column("Doses"),
        lambda c, s, _tz: "; ".join(dose_text(d) for d in c.doses_of(s)) or "no dose",
    ),
    SessionColumn(
        Column("Total mg", 6, Align.END),
        lambda _c, s, _tz: NONE if s.dose_total_mg is None else f"{s.dose_total_mg:g}",
    ),
)


def sessions_section(summary: CourseSummary, tz: tzinfo | None) -> Section:
    sessions = summary.history.sessions
    if not sessions:
        return Section("Sessions", (Paragraph(("No sessions yet.",), Emphasis.MUTED),))
    rows = tuple(
        Row(tuple(Cell((c.text(summary, s, tz),)) for c in SESSION_COLUMNS)) for s in sessions
    )
    table = Table(tuple(c.column for c in SESSION_COLUMNS), rows)
    intro: Text = ("Oldest first; doses as they stand (corrections applied).",)
    return Section("Sessions", (table,), intro=intro, table_head=True)


# --- the measures -------------------------------------------------------------------------------

MEASURE_TABLE = (
    Column("Questionnaire", 12),
    Column("Date", 12),
    Column("Given in", 16),
    Column("Total", 8, Align.CENTER),
    Column("Severity", 25),
    Column("Change from first"),
)


def _given_in(summary: CourseSummary, line: SummaryLine) -> str:
    session = summary.session_of(line.line.record)
    if session is None:
        return "outside a session"
    if session.session_number is not None:
        return f"session {session.session_number}"
    return "a session"


def measure_row(summary: CourseSummary, line: SummaryLine, tz: tzinfo | None) -> Row:
    scored = line.line.score
    record = line.line.record
    if scored.total is None:
        noun = "item" if len(scored.missing) == 1 else "items"
        total: Cell = Cell((span(Emphasis.MUTED, "not scored"),))
        severity = Cell(
            (f"incomplete: {noun} {', '.join(str(n) for n in scored.missing)} unanswered",),
            (Emphasis.ALERT,),
        )
        change = NONE
    else:
        total = Cell((str(scored.total),))
        severity = Cell((record.band or (scored.band.label if scored.band else NONE),))
        if line.from_first is None:
            change = "first scored"
        else:
            change = f"{line.from_first.difference:+d} from {line.from_first.before}"
            if line.from_first.label:
                change += f": {line.from_first.label}"
    flag = ""
    if scored.needs_decision:
        flag = f" (item {', '.join(str(i) for i in scored.flags)} above zero)"
    return Row(
        (
            Cell((scored.instrument.name,)),
            Cell((_day(record.occurred_at.astimezone(tz)),)),
            Cell((_given_in(summary, line),)),
            total,
            Cell((*severity.text, flag) if flag else severity.text, severity.emphasis),
            Cell((change,)),
        )
    )


def measures_section(summary: CourseSummary, tz: tzinfo | None) -> Section:
    lines = summary_lines(summary.history.measures)
    if not lines:
        return Section("Outcome measures", (Paragraph((NO_MEASURES,), Emphasis.MUTED),))
    table = Table(MEASURE_TABLE, tuple(measure_row(summary, line, tz) for line in lines))
    intro: Text = (
        "PHQ-9, GAD-7 and PCL-5 as they stand, each oldest first; totals and severity as "
        "scored when entered. An incomplete questionnaire is not scored (never as zero). "
        "Change from first: against the questionnaire's first scored total.",
    )
    return Section("Outcome measures", (table,), intro=intro, table_head=True)


def chart_figure(chart_size: tuple[float, float]) -> Figure:
    """The chart with its caption above it (a figure alone: kept on one page with its caption,
    where a section's title could be left behind at the foot of the page before)."""
    width, height = chart_size
    caption = (
        "COURSE CHART. Totals over the course: PHQ-9 and GAD-7 on the left scale with the "
        "PHQ-9 severity bands, PCL-5 on the right with its cut-point 33 (dotted); dashed "
        "vertical lines: dosing sessions; hollow marks in the strip under zero: incomplete, "
        "not scored."
    )
    return Figure(CHART_URL, width, height, caption)


# --- the document -------------------------------------------------------------------------------


def course_document(
    summary: CourseSummary,
    *,
    chart_size: tuple[float, float] | None = None,
    tz: tzinfo | None = None,
) -> Document:
    """The summary as blocks; `chart_size`: the chart's size in layout units (`CHART_URL`),
    None without a chart (Markdown, or nothing to chart)."""
    client = summary.history.client
    dob = client.date_of_birth
    sessions = summary.history.sessions
    facts = (
        Field("Client", (span(Emphasis.STRONG, client.full_name),)),
        Field("Record no.", (client.record_number or NONE,)),
        Field(
            "Date of birth",
            (_day(dob),) if dob is not None else (span(Emphasis.MUTED, "not recorded"),),
        ),
        Field("Sessions", (str(len(sessions)),)),
        Field("Made", (date_time_text(summary.made_at, tz),)),
        Field("Times", (f"local ({zone_text(summary.made_at, tz)})",)),
    )
    blocks: list[Block] = [
        Heading(1, f"Course summary: {client.full_name}"),
        Fields(facts, per_row=2, widths=(14, 36, 12, None)),
    ]
    unsigned = [s for s in sessions if s.status is not SessionStatus.SIGNED]
    if unsigned:
        blocks.append(
            Notice(
                f"{len(unsigned)} of the sessions {'is' if len(unsigned) == 1 else 'are'} not "
                "signed yet: their figures may still change."
            )
        )
    blocks.append(Section("Course plan", tuple(plan_blocks(summary))))
    blocks.append(sessions_section(summary, tz))
    blocks.append(measures_section(summary, tz))
    if chart_size is not None:
        blocks.append(chart_figure(chart_size))
    return Document(tuple(blocks))


def summary_markdown(summary: CourseSummary, *, tz: tzinfo | None = None) -> str:
    return markdown(course_document(summary, tz=tz))


ChartFor = Callable[[CourseChart], Callable[[int, int], Any]]


def summary_pdf(
    summary: CourseSummary,
    *,
    page: str = "A4",
    chart_for: ChartFor | None = None,
    tz: tzinfo | None = None,
) -> bytes:
    """The summary on A4 or US Letter; the chart drawn by `chart_for` when there are measures."""
    from PySide6.QtCore import QRectF, QSizeF, QUrl
    from PySide6.QtGui import QImage, QPainter, QTextCursor, QTextDocument

    from kapsession.export.document_html import STYLESHEET, html
    from kapsession.export.print_style import (
        BODY_PT,
        PX_PER_INCH,
        WRITER_DPI,
        Decoration,
        font,
        geometry,
        pdf_bytes,
        require_gui_application,
    )

    require_gui_application()
    body = geometry(page).body
    chart = course_chart(summary.history)
    image: QImage | None = None
    if chart_for is not None and not chart.empty:
        scale = WRITER_DPI / PX_PER_INCH
        width, height = body.width(), round(body.width() * CHART_ASPECT)
        image = chart_for(chart)(round(width * scale), round(height * scale))
    document = QTextDocument()
    layout_device = QImage(1, 1, QImage.Format.Format_RGB32)  # 96 units per inch, as pdf.py
    dots_per_metre = round(PX_PER_INCH / 0.0254)
    layout_device.setDotsPerMeterX(dots_per_metre)
    layout_device.setDotsPerMeterY(dots_per_metre)
    document.documentLayout().setPaintDevice(layout_device)
    document.setProperty("layoutDevice", layout_device)
    document.setDocumentMargin(0)
    document.setDefaultFont(font(BODY_PT))
    document.setDefaultStyleSheet(STYLESHEET)
    document.setPageSize(QSizeF(body.width(), body.height()))
    chart_size = None
    if image is not None:
        chart_size = (body.width(), body.width() * image.height() / max(image.width(), 1))
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(CHART_URL), image)
    document.setUndoRedoEnabled(False)
    document.pageCount()  # laid out empty first: the insertion is then laid out in one pass
    QTextCursor(document).insertHtml(html(course_document(summary, chart_size=chart_size, tz=tz)))
    count = document.pageCount()

    def paint(painter: QPainter, index: int) -> None:
        top = index * body.height()
        painter.translate(body.left(), body.top() - top)
        document.drawContents(painter, QRectF(0, top, body.width(), body.height()))

    client = summary.history.client
    header_left = " · ".join(p for p in (client.full_name, client.record_number or "") if p)
    title = f"Course summary: {client.full_name}, {day_text(summary.made_at, tz)}"
    return pdf_bytes(
        page,
        title,
        count,
        paint,
        Decoration(header_left=header_left, header_right="Course summary", draft=False),
    )
