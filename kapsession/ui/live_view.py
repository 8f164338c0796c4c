"""The live session screen: the clocks, the phase, what is due, the strip, and the actions.

Laid out to fit a room laptop's screen (1366x768, 1280x720) without scrolling, in a couples or
group session and with an alert open: the header (who the session is for, the participant
chosen), the team bar and the row of tiles (clocks, phase, check-ins, and room for one more)
stay at the top whatever happens below them; the nurse board (couples and group) sits beside
the timeline strip; the work areas are tabs that take the height left; the actions and the
message line stay at the bottom. Only when the window is smaller than that does the middle
scroll, never the header.

The work areas are tabs. The check-in form and the music panel are built with the screen; the
Notes tab (the note pads and the event list), the readings table, the vitals chart (QtCharts)
and the session note page are built when first shown (or first asked for): `tab_built(name)`
then says so, and whoever fills that tab fills it from the open session. `built(name)` says
whether a tab is built, without building it.

Every key of the screen comes from `keymap.KEYS`, bound here; a `KeyRouter` decides which of
them act in the field that has the keys (a letter types in a text box, acts in a number box).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QCompleter,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.dose_periods import Hold, Infusion, InfusionStatus
from kapsession.domain.protocol import SessionType
from kapsession.domain.quick_markers import QuickMarker
from kapsession.domain.timeline import CheckinState, CheckinStatus, TimelineState
from kapsession.records.notes import Pad
from kapsession.records.sessions import SessionRecord
from kapsession.services.nurse_board import BoardRow
from kapsession.ui import keymap, theme
from kapsession.ui.alerts_banner import AlertsBanner
from kapsession.ui.checkin_form import CheckinForm
from kapsession.ui.clock_label import LEFT_BOTTOM, LEFT_MIDDLE, RIGHT_MIDDLE, ClockLabel
from kapsession.ui.formatting import clock_text, local_time, minutes_text
from kapsession.ui.last_vitals import LastVitalsTile
from kapsession.ui.music_panel import MusicPanel
from kapsession.ui.nurse_board import MAX_HEIGHT_PX as BOARD_MAX_HEIGHT_PX
from kapsession.ui.nurse_board import NurseBoard
from kapsession.ui.profile_line import ProfileLine
from kapsession.ui.team_bar import TeamBar
from kapsession.ui.timeline_strip import StripMark, TimelineStrip

if TYPE_CHECKING:
    from kapsession.ui.event_list import EventList
    from kapsession.ui.note_pad import NotePadWidget
    from kapsession.ui.readings_table import ReadingsTable
    from kapsession.ui.vitals_chart import VitalsChart

# the tabs built when first shown
NOTES = "notes"
READINGS = "readings"
CHART = "chart"
RECORD = "record"

CHECKIN_LINES = 3  # the check-ins tile: the next three, the due and overdue ones large
DUE_TEXT_PX = 28  # due and overdue check-ins: read from two metres
MARGIN_PX = 20  # the screen's left and right margins
SPACING_PX = 4  # between the rows of the screen
RECENT_JOIN = "   ·   "
SAVED_LEAVES_PX = 160  # what the message line leaves the latest entries, at least
# The header's, the team bar's and the banners' buttons: smaller than the actions', the rows
# stay low
HEADER_BUTTONS = (
    "QPushButton { padding: 5px 12px; }"
    # the team's names beside who is at the keyboard: secondary, one line on a laptop
    "TeamBar QLabel#dim { font-size: 13px; }"
)
LOW_BUTTONS = "QFrame#alerts QPushButton { padding: 5px 12px; }"
BOARD_ROW_PX = 26  # a row of the nurse board: its 15 px text and a little air

MARKER_SUGGESTIONS = (
    "Eye mask on",
    "Eye mask off",
    "Tearful",
    "Music request",
    "Touch consent given",
    "Spoke",
    "Restless",
    "Bathroom",
    "Emesis",
    "Spat out lozenge",
)


def _panel() -> QFrame:
    frame = QFrame()
    frame.setObjectName("panel")
    return frame


class _Scrolling(QScrollArea):
    """Its content fills the space given and scrolls only when that is less than the content's
    minimum height. (A resizable QScrollArea gives word-wrapped content its preferred height
    for the width, and so scrolls long before anything would be squeezed.)"""

    def __init__(self, content: QWidget) -> None:
        super().__init__()
        self.setWidget(content)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._follow_focus)

    def _follow_focus(self, _old: QWidget | None, new: QWidget | None) -> None:
        """The control that takes the keys is scrolled into view (also after C, D, M)."""
        content = self.widget()
        if new is not None and content is not None and content.isAncestorOf(new):
            self.ensureWidgetVisible(new)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self._fit()  # a banner shown or hidden changes what the content needs
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        content = self.widget()
        if content is None:
            return
        needed = content.minimumSizeHint().height()
        bar = self.verticalScrollBar().sizeHint().width() if needed > self.height() else 0
        size = QSize(self.width() - bar, max(self.height(), needed))
        if content.size() != size:  # a ticking clock asks for layout every second: no-op then
            content.resize(size)


def _low(panel: QWidget, margin: int = 4) -> None:
    """A row of the screen with little margin above and below what it holds."""
    layout = panel.layout()
    if layout is not None:
        margins = layout.contentsMargins()
        layout.setContentsMargins(margins.left(), margin, margins.right(), margin)


def _heading(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("heading")
    return label


ALL_DONE = "All check-ins done"


def hold_text(hold: Hold | None, now: datetime) -> tuple[str, bool]:
    """The hold button's text ("" hides it) and whether the hold time is over. Short: the
    marker box beside it keeps its width on a 1280-pixel screen."""
    if hold is None or hold.done:
        return "", False
    left = hold.left_s(now)
    key = keymap.label("hold")
    if left > 0:
        return f"Hold {_mm_ss(left)}  {key}", False
    return f"Spit/swallow now  {key}", True


def infusion_text(infusion: Infusion | None, now: datetime) -> str:
    """The infusion button's text: running or paused, and for how long ("" hides it)."""
    if infusion is None or infusion.status is InfusionStatus.STOPPED:
        return ""
    key = keymap.label("infusion")
    if infusion.status is InfusionStatus.PAUSED:
        begin = infusion.pauses()[-1][0]
        return f"Infusion paused {_mm_ss((now - begin).total_seconds())}  {key}"
    return f"Infusion {_mm_ss(infusion.running_s(now))}  {key}"


def _mm_ss(seconds: float) -> str:
    """Minutes and seconds, "6:40"; over an hour, "1:02:05"."""
    total = max(math.floor(seconds), 0)
    if total >= 3600:
        return clock_text(total)
    return f"{total // 60}:{total % 60:02d}"


def _show_button(button: QPushButton, text: str, name: str) -> None:
    if not text:
        button.hide()
        return
    if button.text() != text:
        button.setText(text)
    if button.objectName() != name:
        button.setObjectName(name)
        button.style().unpolish(button)
        button.style().polish(button)
    button.show()


def checkin_text(checkin: CheckinState, state: TimelineState) -> tuple[str, str]:
    """The line for one check-in and its colour."""
    label = checkin.spec.label
    if checkin.status is CheckinStatus.OVERDUE:
        late = (state.now - checkin.due_at).total_seconds()
        return f"{label} — overdue {minutes_text(late)}", theme.OVERDUE
    if checkin.status is CheckinStatus.DUE:
        return f"{label} — due now", theme.DUE
    if checkin.status is CheckinStatus.DONE:
        return f"{label} — done", theme.DONE
    if checkin.projected:
        return f"{label} — after the dose", theme.TEXT_DIM
    wait = (checkin.due_at - state.now).total_seconds()
    return f"{label} — in {minutes_text(wait)} ({local_time(checkin.due_at)})", theme.TEXT_DIM


def checkin_lines(
    state: TimelineState,
    room: Sequence[BoardRow],
    count: int,
    shown: uuid.UUID | None = None,
) -> list[tuple[str, str]]:
    """The check-ins tile. Alone: the participant's next check-ins. In a couples or group
    session (`room`, the nurse board's rows, most urgent first), first each participant's
    due or overdue check-in, named, whoever is `shown`; then what else is next for `shown`.
    Due and overdue lines are drawn large."""
    names = short_names([row.name for row in room])
    lines = []
    listed: set[tuple[uuid.UUID, str]] = set()
    for row in room:
        checkin = row.next_checkin
        if checkin is None or row.discharged_at is not None:
            continue
        if checkin.status in (CheckinStatus.DUE, CheckinStatus.OVERDUE):
            text, colour = checkin_text(checkin, state)
            lines.append((f"{names[row.name]}: {text}", colour))
            listed.add((row.participant.id, checkin.spec.key))
    whose = next((names[row.name] for row in room if row.participant.id == shown), "")
    for checkin in state.next_checkins(count):
        if shown is not None and (shown, checkin.spec.key) in listed:
            continue
        text, colour = checkin_text(checkin, state)
        urgent = checkin.status in (CheckinStatus.DUE, CheckinStatus.OVERDUE)
        lines.append((f"{whose}: {text}" if whose and urgent else text, colour))
    return lines[:count] or [(ALL_DONE, theme.DONE)]


def discharged_lines(
    discharged_at: datetime, lines: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The check-ins tile for a participant who has left: none due for them (the others'
    due check-ins, in a shared session, still listed)."""
    others = [line for line in lines if line[0] != ALL_DONE]
    return [(f"None due: discharged at {local_time(discharged_at)}.", theme.DONE), *others]


def short_names(names: Sequence[str]) -> dict[str, str]:
    """Each participant by their given name, or their whole name where two share one."""
    given = [name.split(" ", 1)[0] for name in names]
    return {
        name: first if given.count(first) == 1 else name
        for name, first in zip(names, given, strict=True)
    }


def ended_lines(state: TimelineState) -> list[tuple[str, str]]:
    """The check-ins tile once the session has ended: nothing falls due any more; what was
    never done is named (late entries can still be added)."""
    assert state.ended_at is not None
    lines = [(f"None due: the session ended at {local_time(state.ended_at)}.", theme.DONE)]
    missed = [c.spec.label for c in state.checkins if c.status is not CheckinStatus.DONE]
    if missed:
        lines.append((f"Not done: {', '.join(missed)}", theme.TEXT_DIM))
    return lines


ORDER_LINE_MAX_PX = 700  # the order beside the latest entries; the whole in its tip
ORDER_LINE_MIN_PX = 320  # what the order keeps of the line when a long message needs room


class LiveView(QWidget):
    back_requested = Signal()
    lock_requested = Signal()  # Ctrl+L: the screen locks, the session goes on (issue 18)
    dose_requested = Signal(uuid.UUID)
    marker_requested = Signal(str, object)  # text, participant id or None
    intention_requested = Signal(str, object)  # issue 17: text, participant id
    end_requested = Signal()
    participant_changed = Signal(object)
    device_requested = Signal(uuid.UUID)
    checkin_requested = Signal()
    stagger_requested = Signal()
    tab_shown = Signal()  # a tab came into view: bring it up to date
    tab_built = Signal(str)  # a tab's content was just built (NOTES, READINGS, CHART, RECORD)
    discharge_requested = Signal(uuid.UUID)
    hold_requested = Signal(uuid.UUID)  # H: the sublingual hold ended (spit or swallow)
    infusion_requested = Signal(uuid.UUID)  # I: pause, resume or stop the infusion
    quick_marker_pressed = Signal(str)  # a quick marker's key, on the Notes tab
    export_requested = Signal()
    countersign_requested = Signal(uuid.UUID)  # a participant's verbal order (issue 16)
    adverse_event_requested = Signal(uuid.UUID)  # E: the participant shown
    intervention_requested = Signal(uuid.UUID)  # T: the participant shown
    substance_requested = Signal(uuid.UUID)  # "Record waste …": the participant shown
    client_questionnaire_requested = Signal(uuid.UUID)  # F: the participant shown (issue 17)
    escort_requested = Signal(uuid.UUID)  # Y: the escort for the day (issue 17)
    # B, or D while the first dose waits for it: the screening or the prescriber's decision (17)
    screening_requested = Signal(uuid.UUID)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Its frame first, then what it holds, each added to its place: with the room's style
        # sheet a widget given a parent is restyled with everything it already holds, so a
        # whole screen put into a scroll area or a window once built is restyled again each
        # time (about 20 ms of this screen's 50 ms).
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        head = QWidget()
        outer.addWidget(head)
        body = QWidget()
        self._scroll = _Scrolling(body)
        outer.addWidget(self._scroll, 1)
        # the header, the team and the tiles: always at the top
        head.setStyleSheet(HEADER_BUTTONS)
        top_layout = QVBoxLayout(head)
        top_layout.setContentsMargins(MARGIN_PX, 6, MARGIN_PX, SPACING_PX)
        top_layout.setSpacing(SPACING_PX)
        self.back_button = QPushButton("← Start")
        self.back_button.setToolTip(
            f"Back to the start screen; the session keeps running {keymap.label('back')}"
        )
        self.back_button.clicked.connect(self.back_requested)
        self.title = QLabel()
        self.title.setObjectName("dim")
        self.title.setWordWrap(True)  # a long group's names wrap rather than being cut
        self.participant = QComboBox()
        self.participant.setAccessibleName("Participant")
        self.participant.currentIndexChanged.connect(
            lambda _i: self.participant_changed.emit(self.participant.currentData())
        )
        self.training = QLabel("TRAINING")
        self.training.setObjectName("training")
        self.training.hide()
        header = QHBoxLayout()
        header.addWidget(self.back_button)
        header.addWidget(self.training)
        header.addWidget(self.title, 1)
        self.participant_label = QLabel("Participant")
        self.participant_label.setObjectName("dim")
        header.addWidget(self.participant_label)
        header.addWidget(self.participant)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip(
            f"The record as PDF, text for the EHR, CSV, FHIR or REMS data {keymap.label('export')}"
        )
        self.export_button.clicked.connect(self.export_requested)
        self.substance_button = QPushButton("Record waste…")  # a dose without its count (16)
        self.substance_button.setToolTip(
            "The dose's controlled-substance count: drawn, given, wasted (a witness's PIN)"
        )
        self.substance_button.clicked.connect(lambda: self._request_for(self.substance_requested))
        self.substance_button.hide()
        header.addWidget(self.substance_button)
        header.addWidget(self.export_button)
        top_layout.addLayout(header)
        self.team_bar = TeamBar(head)  # who is at the keyboard, and the team (the team controller)
        top_layout.addWidget(self.team_bar)
        # the participant's allergies, weight, emergency contact, escort (issue 17)
        self.profile_line = ProfileLine(head)
        top_layout.addWidget(self.profile_line)
        self._head_layout = top_layout
        self.tiles = QHBoxLayout()  # clocks and phase, check-ins: `add_tile` adds one more
        top_layout.addLayout(self.tiles)
        # clocks
        clocks = _panel()
        self.tiles.addWidget(clocks, 5)
        clocks_layout = QGridLayout(clocks)
        clocks_layout.setContentsMargins(10, 4, 10, 4)
        clocks_layout.setVerticalSpacing(0)
        clocks_layout.addWidget(_heading("Session"), 0, 0)
        self.since_dose_heading = _heading("Since dose")  # hidden without a dose (issue 17)
        clocks_layout.addWidget(self.since_dose_heading, 0, 1)
        # the clocks change every second: fixed-size labels, so only they repaint
        self.elapsed = ClockLabel("0:00:00", background=theme.PANEL)
        self.elapsed.setObjectName("clock")
        self.elapsed.setAccessibleName("Session elapsed time")
        self.since_dose = ClockLabel("—", background=theme.PANEL)
        self.since_dose.setObjectName("doseClock")
        self.since_dose.setAccessibleName("Time since dose")
        self.dose_hint = QLabel()
        self.dose_hint.setObjectName("dim")
        clocks_layout.addWidget(self.elapsed, 1, 0, LEFT_MIDDLE)
        clocks_layout.addWidget(self.since_dose, 1, 1, LEFT_BOTTOM)
        self.started = QLabel()
        self.started.setObjectName("dim")
        clocks_layout.addWidget(self.started, 2, 0)
        clocks_layout.addWidget(self.dose_hint, 2, 1)
        clocks_layout.setColumnStretch(0, 3)
        clocks_layout.setColumnStretch(1, 3)
        # the phase: the third column of the clocks' tile, so that the check-ins beside it
        # have the width their large lines need
        clocks_layout.addWidget(_heading("Phase"), 0, 2)
        phase = QVBoxLayout()
        phase.setSpacing(0)
        self.phase_name = QLabel("—")
        self.phase_name.setObjectName("phaseName")
        self.phase_name.setWordWrap(True)
        self.phase_left = QLabel()
        self.phase_left.setObjectName("notice")
        self.phase_left.setWordWrap(True)
        self.phase_next = QLabel()
        self.phase_next.setObjectName("notice")
        self.phase_next.setWordWrap(True)
        phase.addWidget(self.phase_name)
        phase.addWidget(self.phase_left)
        phase.addWidget(self.phase_next)
        phase.addStretch(1)
        clocks_layout.addLayout(phase, 1, 2, 2, 1)
        clocks_layout.setColumnStretch(2, 2)
        # check-ins: the due and overdue ones in large text
        due = _panel()
        self.tiles.addWidget(due, 6)
        due_layout = QVBoxLayout(due)
        due_layout.setContentsMargins(10, 4, 10, 4)
        due_layout.setSpacing(0)
        due_layout.addWidget(_heading("Check-ins"))
        self.checkin_lines = [QLabel() for _ in range(CHECKIN_LINES)]
        for line in self.checkin_lines:
            line.setWordWrap(True)
            due_layout.addWidget(line)
        due_layout.addStretch(1)

        body.setStyleSheet(LOW_BUTTONS)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(MARGIN_PX, 0, MARGIN_PX, 0)
        layout.setSpacing(SPACING_PX)
        self._body_layout = layout
        # the nurse board (couples / group) beside the strip; the last vitals beside the strip
        # too in an individual session, on their own row above in a shared one
        middle = QHBoxLayout()
        middle.setSpacing(6)
        layout.addLayout(middle)
        self.room_panel = _panel()
        middle.addWidget(self.room_panel)  # as wide as its columns (`_fit_board`)
        room_layout = QVBoxLayout(self.room_panel)
        room_layout.setContentsMargins(2, 2, 2, 2)
        self.board = NurseBoard(self.room_panel)
        self.board.setToolTip("Nurse board: every participant, the most urgent first")
        self.board.verticalHeader().setMinimumSectionSize(BOARD_ROW_PX)
        self.board.verticalHeader().setDefaultSectionSize(BOARD_ROW_PX)
        room_layout.addWidget(self.board)
        self._board_changed = True  # its texts changed: its width is measured again
        board_model = self.board.model()
        for changed in (board_model.dataChanged, board_model.rowsInserted):
            changed.connect(self._board_texts_changed)
        # the shown participant's newest values, with their caution and alert states
        self.last_vitals = LastVitalsTile(body)
        middle.addWidget(self.last_vitals)
        _low(self.last_vitals, 2)
        self.strip = TimelineStrip()
        strip_panel = _panel()
        middle.addWidget(strip_panel, 1)
        strip_layout = QVBoxLayout(strip_panel)
        strip_layout.setContentsMargins(6, 2, 6, 2)
        strip_layout.addWidget(self.strip)
        self._middle = middle
        self.alerts = AlertsBanner(body)
        layout.addWidget(self.alerts)
        _low(self.alerts)
        # the nurse's and the therapist's work areas, one at a time
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        layout.addWidget(self.tabs, 1)  # its pages are added in place
        self.music_line = ClockLabel()  # the track's time left: every second
        self.music_line.setObjectName("dim")
        music_corner = QWidget()
        corner_layout = QHBoxLayout(music_corner)
        corner_layout.setContentsMargins(0, 0, 0, 4)
        corner_layout.addWidget(self.music_line, 0, RIGHT_MIDDLE)
        self.tabs.setCornerWidget(music_corner, Qt.Corner.TopRightCorner)
        # the pages in place first, then what they hold (each widget styled once, in place)
        checkin_page = QWidget()
        checkin_layout = QVBoxLayout(checkin_page)
        checkin_layout.setContentsMargins(0, SPACING_PX, 0, 0)
        # the pages of the tabs built when first shown: empty until then
        self._pages: dict[str, QWidget] = {}
        self._layouts: dict[str, QVBoxLayout] = {}
        self._built: set[str] = set()
        self._note_pad: NotePadWidget | None = None
        self._events: EventList | None = None
        self._readings: ReadingsTable | None = None
        self._chart: VitalsChart | None = None
        self.tabs.addTab(checkin_page, f"Check-in  {keymap.label('checkin')}")
        # the therapist's notes beside the one timeline of everything in the session
        self.notes_page = self._lazy_page(NOTES, f"Notes  {keymap.label('notes')}", margin=0)
        self._lazy_page(READINGS, f"Readings  {keymap.label('readings')}", margin=0)
        self._lazy_page(CHART, f"Vitals chart  {keymap.label('chart')}", margin=0)
        music_page = QWidget()
        music_layout = QVBoxLayout(music_page)
        music_layout.setContentsMargins(0, SPACING_PX, 0, 0)
        music_scroll = _Scrolling(music_page)  # the tallest page: it sets no minimum height
        self.music_page = music_scroll
        self.tabs.addTab(music_scroll, f"Music  {keymap.label('music_tab')}")
        # the session note and signing: a page the notes controller fills once it is built
        self.record_page = self._lazy_page(
            RECORD, f"Session note  {keymap.label('record')}", margin=SPACING_PX
        )
        self.checkin_form = CheckinForm(checkin_page)
        checkin_layout.addWidget(self.checkin_form)
        checkin_layout.addStretch(1)
        self.music = MusicPanel(music_page)
        music_layout.addWidget(self.music)
        music_layout.addStretch(1)
        self.tabs.setTabToolTip(self.tabs.indexOf(self.record_page), "Session note and signing")
        self.tabs.currentChanged.connect(lambda _i: self._build_shown())  # before the others
        self._marker_keys: list[QShortcut] = []
        self.tabs.currentChanged.connect(lambda _i: self._enable_marker_keys())
        self.tabs.currentChanged.connect(lambda _i: self.tab_shown.emit())
        # actions
        self.marker = QLineEdit()
        self.marker.setPlaceholderText(
            f"Add a marker — type and press Enter  {keymap.label('marker')}"
        )
        self.marker.setAccessibleName("Marker")
        completer = QCompleter(list(MARKER_SUGGESTIONS), self.marker)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.marker.setCompleter(completer)
        self.marker.returnPressed.connect(self._submit_marker)
        self.dose_button = QPushButton(f"Dose given now  {keymap.label('dose')}")
        self.dose_button.setObjectName("primary")
        self.dose_button.clicked.connect(self._request_dose)
        self.device_button = QPushButton(f"Next device given  {keymap.label('device')}")
        self.device_button.clicked.connect(self._request_device)
        self.device_button.hide()
        self.stagger_button = QPushButton("Stagger doses…")
        self.stagger_button.setToolTip(
            "Plan the participants' doses a few minutes apart, so one nurse's checks don't collide"
        )
        self.stagger_button.clicked.connect(self.stagger_requested)
        # a dose that lasts (issue 16): the sublingual hold's countdown, the infusion's time
        self.hold_button = QPushButton()
        self.hold_button.setAccessibleName("Sublingual hold")
        self.hold_button.setToolTip(
            "The sublingual hold counts down from the dose; when the client spits or swallows, "
            f"press {keymap.key('hold').sequence}: S spat out, W swallowed"
        )
        self.hold_button.clicked.connect(self._request_hold)
        self.hold_button.hide()
        self.infusion_button = QPushButton()
        self.infusion_button.setAccessibleName("IV infusion")
        self.infusion_button.setToolTip(
            "The infusion's running time (pauses left out); "
            f"{keymap.key('infusion').sequence} pauses, resumes or stops it"
        )
        self.infusion_button.clicked.connect(self._request_infusion)
        self.infusion_button.hide()
        self._stagger_offered = False  # a couples or group session (`show_session`)
        self.discharge_button = QPushButton(f"Discharge…  {keymap.label('discharge')}")
        self.discharge_button.clicked.connect(self._request_discharge)
        self.end_button = QPushButton(f"End session  {keymap.label('end')}")
        self.end_button.clicked.connect(self.end_requested)
        # the prescriber's order (issue 16): one line beside the dose, the countersignature
        # a verbal order still waits for, and why D offers no dose now
        self._dose_allowed = True
        self._gives_dose = True  # a dosing session (`_show_session_type`, issue 17)
        self._dose_gated = False  # the first dose waits for the screening or a decision (17)
        self._session_live = False  # as the last state shown says (an ended session: no D)
        self.order_line = QLabel("No order recorded")
        self.order_line.setObjectName("dim")
        self.order_line.setAccessibleName("The prescriber's order")
        self.order_line.setMinimumWidth(1)  # elided to the room it has; the whole in its tip
        self.countersign_button = QPushButton("Countersign…")
        self.countersign_button.setToolTip("The prescriber countersigns the verbal order (PIN)")
        self.countersign_button.clicked.connect(self._request_countersign)
        self.countersign_button.hide()
        self.order_line.installEventFilter(self)  # refit when its width changes
        actions = QHBoxLayout()
        actions.addWidget(self.dose_button)
        actions.addWidget(self.device_button)
        actions.addWidget(self.hold_button)
        actions.addWidget(self.infusion_button)
        actions.addWidget(self.stagger_button)
        actions.addWidget(self.marker, 1)
        # issue 17: the client's intention, typed in a preparation session (Tab reaches it)
        self.intention = QLineEdit()
        self.intention.setAccessibleName("Intention")
        self.intention.returnPressed.connect(self._submit_intention)
        self.intention.hide()
        actions.addWidget(self.intention, 1)
        actions.addWidget(self.discharge_button)
        actions.addWidget(self.end_button)
        # messages
        self.failure = QLabel()
        self.failure.setObjectName("banner")
        self.failure.setWordWrap(True)
        self.failure.hide()
        self.saved = QLabel()
        self.saved.setObjectName("notice")
        self.saved.setWordWrap(True)  # as wide as its text, while the line has room (show_saved)
        self.saved.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.recent = QLabel()  # the latest entries that fit (`show_recent`)
        self.recent.setObjectName("dim")
        self.recent.setMinimumWidth(1)  # it shows what fits, it does not ask for more
        self.recent.installEventFilter(self)  # refit when its width changes
        self._recent_lines: list[str] = []
        status = QHBoxLayout()
        self.order_line.setMaximumWidth(ORDER_LINE_MAX_PX)
        status.addWidget(self.order_line, 1)
        status.addWidget(self.countersign_button)
        # issue 17: the client's intentions from preparation, for the therapist (staff screen)
        self.intentions_line = QLabel()
        self.intentions_line.setObjectName("dim")
        self.intentions_line.setAccessibleName("Intentions from preparation")
        self.intentions_line.setMinimumWidth(1)
        self.intentions_line.setMaximumWidth(ORDER_LINE_MAX_PX)
        self.intentions_line.hide()
        status.addWidget(self.intentions_line, 1)
        status.addWidget(self.recent, 1)
        status.addWidget(self.saved)
        # The actions and the messages stay in view below the rest, whatever its height.
        footer = QVBoxLayout()
        footer.setContentsMargins(MARGIN_PX, SPACING_PX, MARGIN_PX, 6)
        footer.setSpacing(SPACING_PX)
        footer.addLayout(actions)
        footer.addWidget(self.failure)
        footer.addLayout(status)
        outer.addLayout(footer)
        # the keys: one table (keymap), bound here; the router decides where each acts
        self.keys = keymap.KeyRouter(self)
        actions_by_name: dict[str, Callable[[], object]] = {
            "checkin": self.checkin_requested.emit,
            "dose": self._request_dose,
            "screening": lambda: self._request_for(self.screening_requested),
            "device": self._request_device,
            "hold": self._request_hold,
            "infusion": self._request_infusion,
            "acknowledge": self._acknowledge,
            "adverse_event": lambda: self._request_for(self.adverse_event_requested),
            "intervention": lambda: self._request_for(self.intervention_requested),
            "client_questionnaire": lambda: self._request_for(self.client_questionnaire_requested),
            "escort": lambda: self._request_for(self.escort_requested),
            "marker": self.marker.setFocus,
            "notes": self.show_notes,
            "private_notes": self.show_private_notes,
            "readings": self._show_readings,
            "chart": lambda: self.show_tab(CHART),
            "music_tab": lambda: self._show_page(self.music_page),
            "record": lambda: self.show_tab(RECORD),
            "play_pause": self.music.play_pause_requested.emit,
            "quiet": self.music.quiet_requested.emit,
            "next_track": self.music.next_requested.emit,
            "previous_track": self.music.previous_requested.emit,
            "volume_up": lambda: self._nudge_volume(5),
            "volume_down": lambda: self._nudge_volume(-5),
            "next_tab": lambda: self._step_tab(1),
            "previous_tab": lambda: self._step_tab(-1),
            "discharge": self._request_discharge,
            "end": self.end_requested.emit,
            "export": self.export_requested.emit,
            "switch_person": self.team_bar.switch_requested.emit,
            "hand_over": self.team_bar.handover_requested.emit,
            "lock": self.lock_requested.emit,
            "back": self.back_requested.emit,
            "leave_field": self._escape,
        }
        for entry in keymap.KEYS:
            QShortcut(QKeySequence(entry.sequence), self, actions_by_name[entry.action])
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_moved)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.recent and event.type() == QEvent.Type.Resize:
            self._fit_recent()
        if watched is self.order_line and event.type() == QEvent.Type.Resize:
            self._fit_order()
        return super().eventFilter(watched, event)

    def _board_texts_changed(self) -> None:
        self._board_changed = True

    def _fit_board(self) -> None:
        """The nurse board as wide as its columns (every column in view); the strip beside it
        takes the rest."""
        self._board_changed = False
        board, header = self.board, self.board.horizontalHeader()
        wanted = [
            max(board.sizeHintForColumn(c), header.sectionSizeHint(c))
            for c in range(board.columnCount())
        ]
        # the last column stretches, and never below the header's default width
        columns = sum(wanted[:-1]) + max(wanted[-1], header.defaultSectionSize())
        margins = self.room_panel.contentsMargins()
        frame = 2 * board.frameWidth() + margins.left() + margins.right()
        layout = self.room_panel.layout()
        if layout is not None:
            inner = layout.contentsMargins()
            frame += inner.left() + inner.right()
        rows = sum(board.rowHeight(r) for r in range(board.rowCount()))
        height = header.sizeHint().height() + rows + 2 * board.frameWidth() + 2  # (grid line)
        if height > BOARD_MAX_HEIGHT_PX:  # more than the board shows: it scrolls
            columns += board.verticalScrollBar().sizeHint().width()
        height = min(height, BOARD_MAX_HEIGHT_PX)
        board.setMinimumHeight(height)
        board.setMaximumHeight(height)  # its rows, no empty table below them
        width = columns + frame
        if self.room_panel.minimumWidth() != width:
            self.room_panel.setMinimumWidth(width)

    def add_tile(self, tile: QWidget, stretch: int = 4) -> None:
        """One more tile in the top row, after the check-ins (room is kept for one)."""
        self.tiles.addWidget(tile, stretch)

    def _focus_moved(self, _old: QWidget | None, new: QWidget | None) -> None:
        """The router watches whatever has the keys inside this screen."""
        self.keys.follow(new if new is not None and self.isAncestorOf(new) else None)

    # the tabs built when first shown ---------------------------------------------------------
    def _lazy_page(self, name: str, title: str, *, margin: int) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, margin, 0, 0)
        self._pages[name] = page
        self._layouts[name] = layout
        self.tabs.addTab(page, title)
        return page

    def built(self, name: str) -> bool:
        """Whether the tab `name` (NOTES, READINGS, CHART, RECORD) is built; builds nothing."""
        return name in self._built

    def build_tab(self, name: str) -> None:
        """Build the tab `name` if it is not built yet, then say so (`tab_built`)."""
        if name in self._built:
            return
        self._built.add(name)
        layout = self._layouts[name]
        if name == NOTES:
            from kapsession.ui.event_list import EventList
            from kapsession.ui.note_pad import NotePadWidget

            self._note_pad = NotePadWidget()
            self._events = EventList()
            splitter = QSplitter(Qt.Orientation.Horizontal)
            splitter.setChildrenCollapsible(False)
            splitter.addWidget(self._note_pad)
            splitter.addWidget(self._events)
            splitter.setStretchFactor(0, 3)
            splitter.setStretchFactor(1, 2)
            layout.addWidget(splitter)
        elif name == READINGS:
            from kapsession.ui.readings_table import ReadingsTable

            self._readings = ReadingsTable()
            layout.addWidget(self._readings)
        elif name == CHART:
            from kapsession.ui.vitals_chart import VitalsChart

            self._chart = VitalsChart()
            layout.addWidget(self._chart)
        self.tab_built.emit(name)  # RECORD: its page comes from the notes controller

    def show_tab(self, name: str) -> None:
        """Bring the tab `name` into view, built if it is not yet."""
        self.build_tab(name)
        self._show_page(self._pages[name])

    def _show_page(self, page: QWidget) -> None:
        """Show a tab's page. The keys leave a field of the page going out of sight for the
        screen itself (Qt would hand them to the next field in the Tab order, perhaps a text
        box, where the next letter would be typed instead of acting)."""
        focus = QApplication.focusWidget()
        current = self.tabs.currentWidget()
        if focus is not None and current is not None and current.isAncestorOf(focus):
            self.setFocus()
        self.tabs.setCurrentWidget(page)

    def _step_tab(self, step: int) -> None:
        """Ctrl+Tab, Ctrl+Shift+Tab: the next or previous tab, round."""
        page = self.tabs.widget((self.tabs.currentIndex() + step) % self.tabs.count())
        if page is not None:
            self._show_page(page)

    def _build_shown(self) -> None:
        for name, page in self._pages.items():
            if self.tabs.currentWidget() is page:
                self.build_tab(name)

    @property
    def note_pad(self) -> NotePadWidget:
        self.build_tab(NOTES)
        assert self._note_pad is not None
        return self._note_pad

    @property
    def events(self) -> EventList:
        self.build_tab(NOTES)
        assert self._events is not None
        return self._events

    @property
    def readings(self) -> ReadingsTable:
        self.build_tab(READINGS)
        assert self._readings is not None
        return self._readings

    @property
    def chart(self) -> VitalsChart:
        self.build_tab(CHART)
        assert self._chart is not None
        return self._chart

    # filling ------------------------------------------------------------------------------
    def set_session(self, record: SessionRecord, training: bool) -> None:
        parts = [record.protocol_name, record.modality.capitalize()]
        if record.room:
            parts.append(record.room)
        numbers = [p.session_number for p in record.participants if p.session_number]
        if len(record.participants) == 1 and numbers:
            parts.append(f"session {numbers[0]} of the course")
        # a couple's or a group's names are in the participant list and on the nurse board
        several = len(record.participants) > 1
        who = f"{len(record.participants)} participants" if several else record.participant_names
        self.title.setText("  ·  ".join([who, *parts]))
        self.title.setToolTip(record.participant_names)
        self.started.setText(
            f"started {local_time(record.started_at)}" if record.started_at else ""
        )
        self.participant.blockSignals(True)
        self.participant.clear()
        for p in record.participants:
            self.participant.addItem(p.client.full_name, p.id)
        self.participant.blockSignals(False)
        several = len(record.participants) > 1
        self.participant.setVisible(several)
        self.participant_label.setVisible(several)
        self.room_panel.setVisible(several)
        self.stagger_button.setVisible(several)
        self._stagger_offered = several
        self._place_last_vitals(several)
        self._place_profile_line(several)
        self.training.setVisible(training)
        self._show_session_type(record)
        self.tabs.setCurrentIndex(0)  # a session opens on the check-in, not where the last one was
        self.failure.hide()
        self.saved.clear()
        self.marker.clear()

    def _show_session_type(self, record: SessionRecord) -> None:
        """A session without a dose (issue 17) runs on the session clock only: no T+ clock, no
        dose or discharge button (D says why); a preparation session takes intentions."""
        self._gives_dose = record.session_type is SessionType.DOSING
        for widget in (self.since_dose_heading, self.since_dose, self.dose_hint):
            widget.setVisible(self._gives_dose)
        self.dose_button.setVisible(self._gives_dose)
        self.discharge_button.setVisible(self._gives_dose)
        self.intention.setVisible(record.session_type is SessionType.PREPARATION)
        self.intention.clear()
        self.show_intentions([])
        self.name_intention_box()

    def name_intention_box(self) -> None:
        """The intention box names whose intention it takes: the participant shown."""
        name = self.participant.currentText() or self.title.toolTip()
        self.intention.setPlaceholderText(f"Intention of {name} — type and press Enter")

    def show_intentions(self, lines: Sequence[str]) -> None:
        """The client's intentions from preparation in their course (issue 17)."""
        text = "Intentions: " + " · ".join(lines) if lines else ""
        self.intentions_line.setVisible(bool(lines))
        self.intentions_line.setToolTip("\n".join(lines))
        metrics = self.intentions_line.fontMetrics()
        self.intentions_line.setText(
            metrics.elidedText(text, Qt.TextElideMode.ElideRight, ORDER_LINE_MAX_PX)
        )

    def intention_saved(self) -> None:
        self.intention.clear()

    def _submit_intention(self) -> None:
        text = self.intention.text()
        if not text.strip():
            self.show_failure("Type the client's intention, then press Enter. Nothing was saved.")
            return
        self.intention_requested.emit(text, self.current_participant())

    def _place_last_vitals(self, several: bool) -> None:
        """Beside the strip alone; above the board and the strip in a shared session (the
        board is wide)."""
        tile = self.last_vitals
        in_middle = self._middle.indexOf(tile) >= 0
        if several and in_middle:
            self._middle.removeWidget(tile)
            self._body_layout.insertWidget(0, tile)
        elif not several and not in_middle:
            self._body_layout.removeWidget(tile)
            self._middle.insertWidget(self._middle.indexOf(self.room_panel) + 1, tile)

    def _place_profile_line(self, several: bool) -> None:
        """The profile (issue 17): a line under the team; beside the last vitals, on two
        lines, in a couples or group session (no height to spare there)."""
        line, tile = self.profile_line, self.last_vitals.layout()
        if not isinstance(tile, QHBoxLayout):
            return
        beside = tile.indexOf(line) >= 0
        if several and not beside:
            self._head_layout.removeWidget(line)
            tile.addWidget(line, 3)
        elif not several and beside:
            tile.removeWidget(line)
            self._head_layout.insertWidget(self._head_layout.indexOf(self.team_bar) + 1, line)
        line.set_rows(2 if several else 1)

    def current_participant(self) -> uuid.UUID | None:
        data = self.participant.currentData()
        return data if isinstance(data, uuid.UUID) else None

    def show_state(
        self,
        state: TimelineState,
        room: Sequence[BoardRow],
        marks: list[StripMark],
        live: bool,
        planned: Mapping[uuid.UUID, datetime] | None = None,
        discharged_at: datetime | None = None,
    ) -> None:
        """`discharged_at`: the participant shown left then; nothing falls due for them."""
        self.elapsed.setText(clock_text(state.elapsed_s))
        if state.since_dose_s is not None and state.first_dose_at is not None:
            self.since_dose.setText(f"T+{clock_text(state.since_dose_s)}")
            self.dose_hint.setText(f"dose given {local_time(state.first_dose_at)}")
        else:
            self.since_dose.setText("no dose yet")
            wait = (state.dose_anchor_at - state.now).total_seconds()
            self.dose_hint.setText(
                f"planned in {minutes_text(wait)}"
                if wait > 59
                else "planned now — press D when given"
            )
        window = state.current_phase
        if state.ended_at is not None:
            self.phase_name.setText("Session ended")
            self.phase_left.setText(f"at {local_time(state.ended_at)}; the clock has stopped")
            self.phase_next.setText("late entries can still be added")
        elif window is not None:
            self.phase_name.setText(window.spec.name)
            left = state.time_left_in_phase_s or 0.0
            if (
                window.projected
                and state.first_dose_at is None
                and window.ends_at == state.dose_anchor_at
            ):
                self.phase_left.setText("until the dose is given")
            else:
                self.phase_left.setText(f"{minutes_text(left)} left in this phase")
            index = state.phase_index if state.phase_index is not None else -1
            if 0 <= index + 1 < len(state.phases):
                self.phase_next.setText(f"next: {state.phases[index + 1].spec.name}")
            else:
                self.phase_next.setText("last phase")
        elif state.past_planned_end:
            self.phase_name.setText("Past the planned end")
            self.phase_left.setText("end the session when the client has left")
            self.phase_next.setText("")
        if state.ended_at is not None:
            lines = ended_lines(state)
        else:
            lines = checkin_lines(state, room, len(self.checkin_lines), self.current_participant())
        if state.ended_at is None and discharged_at is not None:
            lines = discharged_lines(discharged_at, lines)[: len(self.checkin_lines)]
        for line, (text, colour) in zip(self.checkin_lines, lines, strict=False):
            if line.text() != text:
                line.setText(text)
            _set_colour(line, colour, large=colour in (theme.DUE, theme.OVERDUE))
            line.show()
        for line in self.checkin_lines[len(lines) :]:
            line.setText("")
            line.hide()
        if not self.room_panel.isHidden():  # filled before the screen is shown, too
            self.board.show_rows(room, planned)
            if self._board_changed:
                self._fit_board()
        self.strip.show_state(state, marks)
        self._session_live = live
        self.dose_button.setEnabled(live and self._dose_allowed)
        self.marker.setEnabled(live)
        self.end_button.setEnabled(live)
        # After the first dose the button records a booster: no longer the main action.
        booster = state.first_dose_at is not None
        wanted = "booster" if booster else "primary"
        if self.dose_button.objectName() != wanted:
            self.dose_button.setObjectName(wanted)
            self.dose_button.setText("Booster given now  (D)" if booster else "Dose given now  (D)")
            self.dose_button.style().unpolish(self.dose_button)
            self.dose_button.style().polish(self.dose_button)

    def show_recent(self, lines: list[str]) -> None:
        """The latest entries, as many as fit on the line (the newest kept)."""
        self._recent_lines = list(lines)
        self._fit_recent()

    def _fit_recent(self) -> None:
        lines = self._recent_lines
        room = self.recent.contentsRect().width()
        metrics = self.recent.fontMetrics()
        while len(lines) > 1 and metrics.horizontalAdvance(RECENT_JOIN.join(lines)) > room:
            lines = lines[1:]
        text = RECENT_JOIN.join(lines)
        if self.recent.text() != text:
            self.recent.setText(text)

    def show_saved(self, message: str) -> None:
        """What was just saved, on one line beside the latest entries; a message longer than
        the line is wrapped, never cut."""
        self.failure.hide()
        self.saved.setText(message)
        beside = self.order_line.minimumWidth() + (
            self.countersign_button.sizeHint().width() if self.countersign_button.isVisible() else 0
        )  # the order line keeps its share of the line (show_order)
        room = max(1, self.width() - 2 * MARGIN_PX - SAVED_LEAVES_PX - beside)
        self.saved.setMinimumWidth(min(self.saved.fontMetrics().horizontalAdvance(message), room))

    def show_failure(self, message: str) -> None:
        self.failure.setText(message)
        self.failure.show()

    def marker_saved(self) -> None:
        """The marker is saved: the box empties and the keys go back to the screen (as after
        a check-in), so that the next key acts."""
        self.marker.clear()
        if self.marker.hasFocus():
            self.setFocus()

    def show_notes(self) -> None:
        """N: the Notes tab, with the keys in the box of the session notes."""
        self.show_tab(NOTES)
        self.note_pad.show_pad(Pad.RECORD)

    def show_private_notes(self) -> None:
        """Shift+N: the Notes tab on the private pad."""
        self.show_tab(NOTES)
        self.note_pad.show_pad(Pad.PRIVATE)

    def set_record_page(self, page: QWidget) -> None:
        """The session note page: it fills the tab, and scrolls its note inside itself."""
        self._layouts[RECORD].addWidget(page)

    def set_quick_markers(self, markers: Sequence[QuickMarker]) -> None:
        """One key per quick marker (1-9, 0), live while the Notes tab is shown and the keys
        are not in a text box (a text box takes its digits)."""
        for shortcut in self._marker_keys:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self._marker_keys = []
        for marker in markers:
            shortcut = QShortcut(QKeySequence(marker.key), self)
            shortcut.activated.connect(
                lambda label=marker.label: self.quick_marker_pressed.emit(label)
            )
            self._marker_keys.append(shortcut)
        self._enable_marker_keys()

    def _enable_marker_keys(self) -> None:
        shown = self.tabs.currentWidget() is self.notes_page
        for shortcut in self._marker_keys:
            shortcut.setEnabled(shown)

    # the order (issue 16) ----------------------------------------------------------------
    def show_order(self, text: str, *, countersign: bool, warn: bool) -> None:
        """The participant's order in one line ("Order: 200 mg SL · … — Dr X" or "No order
        recorded"), elided to its room with the whole as its tip; `countersign`: a verbal
        order waits for the prescriber's countersignature; `warn` (that, or no order): shown in
        the caution colour."""
        if self.order_line.toolTip() != text:
            self.order_line.setToolTip(text)
            # the whole line while there is room (its stretch), never less than its share:
            # the message of what was saved wraps beside it, the window never grows for it
            width = self.order_line.fontMetrics().horizontalAdvance(text) + 4
            self.order_line.setMinimumWidth(min(width, ORDER_LINE_MIN_PX))
            self._fit_order()
        _set_colour(self.order_line, theme.DUE if warn else theme.TEXT_DIM)
        self.countersign_button.setVisible(countersign)

    def _fit_order(self) -> None:
        text = self.order_line.toolTip()
        room = max(1, self.order_line.contentsRect().width())
        shown = self.order_line.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, room)
        if self.order_line.text() != shown:
            self.order_line.setText(shown)

    def set_dose_allowed(self, allowed: bool, why: str) -> None:
        """Whether D offers a dose now; `why` not (a booster outside its window, after
        discharge ...) is the button's tip, and D says it."""
        self._dose_allowed = allowed
        self.dose_button.setToolTip(why)
        self.dose_button.setEnabled(allowed and self._session_live)

    def _request_countersign(self) -> None:
        participant = self.current_participant()
        if participant is not None:
            self.countersign_requested.emit(participant)

    # actions ------------------------------------------------------------------------------
    def set_dose_gated(self, gated: bool) -> None:
        """Whether the first dose waits for the screening or the prescriber's decision (issue
        17): D then asks for what it waits for instead of the dose."""
        self._dose_gated = gated

    def _request_dose(self) -> None:
        if self._dose_gated and self._session_live:
            self._request_for(self.screening_requested)
            return
        if not self._dose_allowed and self.dose_button.toolTip():
            self.show_failure(self.dose_button.toolTip())
            return
        if not self.dose_button.isEnabled():
            return
        participant = self.current_participant()
        if participant is not None:
            self.dose_requested.emit(participant)

    def _request_for(self, signal: Any) -> None:
        """An adverse event, an intervention or a count for the participant shown (issue 16)."""
        participant = self.current_participant()
        if participant is not None:
            signal.emit(participant)

    def show_substance_offer(self, text: str | None) -> None:
        """The button that records a dose's controlled-substance count, named for the dose;
        None hides it (every dose of the participant shown has its count)."""
        self.substance_button.setVisible(text is not None)
        if text is not None:
            self.substance_button.setText(text)

    def _submit_marker(self) -> None:
        text = self.marker.text().strip()
        if not text:
            self.show_failure("Type what happened, then press Enter. Nothing was saved.")
            return
        self.marker_requested.emit(text, self.current_participant())

    def focus_checkin(self, *, resume: bool = False) -> None:
        """The check-in tab, the keys in its first field (`resume`: where the nurse left the
        form, what was typed kept)."""
        page = self.tabs.widget(0)
        assert page is not None
        self._show_page(page)
        self._scroll.ensureWidgetVisible(self.checkin_form, 0, 0)  # the whole form, if it fits
        if resume:
            self.checkin_form.focus_resume()
        else:
            self.checkin_form.focus_first()

    def _show_readings(self) -> None:
        self.show_tab(READINGS)
        self.readings.setFocus()

    def _acknowledge(self) -> None:
        first = self.alerts.first_open()
        if first is not None:
            self.alerts.acknowledge_requested.emit(first)

    def _request_device(self) -> None:
        participant = self.current_participant()
        if participant is not None and self.device_button.isVisible():
            self.device_requested.emit(participant)

    def _request_hold(self) -> None:
        participant = self.current_participant()
        if participant is not None and self.hold_button.isVisible():
            self.hold_requested.emit(participant)

    def _request_infusion(self) -> None:
        participant = self.current_participant()
        if participant is not None and self.infusion_button.isVisible():
            self.infusion_requested.emit(participant)

    def show_dose_periods(
        self, hold: Hold | None, infusion: Infusion | None, now: datetime
    ) -> None:
        """The participant's sublingual hold counting down (until spit or swallow is
        recorded) and their infusion's running or paused time (until it is stopped)."""
        text, due = hold_text(hold, now)
        infusing = infusion_text(infusion, now)
        _show_button(self.hold_button, text, "primary" if due else "")
        _show_button(self.infusion_button, infusing, "")
        # while one shows, it takes the place of Stagger doses (planned before the doses), so
        # the marker box keeps its width on a 1280-pixel screen
        offered = self._stagger_offered and not (text or infusing)
        if self.stagger_button.isVisible() != offered:
            self.stagger_button.setVisible(offered)

    def _request_discharge(self) -> None:
        if not self._gives_dose:  # issue 17: no dose, so no discharge after one
            self.show_failure("This session gives no dose, so there is no discharge; end it.")
            return
        participant = self.current_participant()
        if participant is not None and self.discharge_button.isEnabled():
            self.discharge_requested.emit(participant)

    def _nudge_volume(self, step: int) -> None:
        slider = self.music.volume
        slider.setValue(max(0, min(slider.maximum(), slider.value() + step)))

    def _escape(self) -> None:
        """Esc: the keys leave whatever field has them for the screen itself, so that the
        single-letter keys act again; what was typed stays where it was."""
        focus = QApplication.focusWidget()
        if focus is not None and focus is not self and self.isAncestorOf(focus):
            self.setFocus()


def _set_colour(label: QLabel, colour: str, *, large: bool = False) -> None:
    """Restyling a label re-polishes it: only do it when the look really changes (ticks come
    four times a second). `large`: due and overdue check-ins, in text read from two metres."""
    look = f"color: {colour};" + (f" font-size: {DUE_TEXT_PX}px;" if large else "")
    if label.property("look") != look:
        label.setProperty("look", look)
        label.setStyleSheet(look)
