"""The live session screen: the clocks, the phase, what is due, the strip, and the actions.

The work areas below them are tabs. The check-in form and the music panel are built with the
screen; the Notes tab (the note pads and the event list), the readings table, the vitals chart
(QtCharts) and the session note page are built when first shown (or first asked for):
`tab_built(name)` then says so, and whoever fills that tab fills it from the open session.
`built(name)` says whether a tab is built, without building it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

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

from kapsession.domain.quick_markers import QuickMarker
from kapsession.domain.timeline import CheckinState, CheckinStatus, TimelineState
from kapsession.records.notes import Pad
from kapsession.records.sessions import SessionRecord
from kapsession.services.nurse_board import BoardRow
from kapsession.ui import theme
from kapsession.ui.alerts_banner import AlertsBanner
from kapsession.ui.checkin_form import CheckinForm
from kapsession.ui.clock_label import LEFT_BOTTOM, LEFT_MIDDLE, RIGHT_MIDDLE, ClockLabel
from kapsession.ui.formatting import clock_text, local_time, minutes_text
from kapsession.ui.last_vitals import LastVitalsTile
from kapsession.ui.music_panel import MusicPanel
from kapsession.ui.nurse_board import NurseBoard
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


def _heading(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("heading")
    return label


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


class LiveView(QWidget):
    back_requested = Signal()
    dose_requested = Signal(uuid.UUID)
    marker_requested = Signal(str, object)  # text, participant id or None
    end_requested = Signal()
    participant_changed = Signal(object)
    device_requested = Signal(uuid.UUID)
    checkin_requested = Signal()
    stagger_requested = Signal()
    tab_shown = Signal()  # a tab came into view: bring it up to date
    tab_built = Signal(str)  # a tab's content was just built (NOTES, READINGS, CHART, RECORD)
    discharge_requested = Signal(uuid.UUID)
    quick_marker_pressed = Signal(str)  # a quick marker's key, on the Notes tab
    export_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Its frame first, then what it holds, each added to its place: with the room's style
        # sheet a widget given a parent is restyled with everything it already holds, so a
        # whole screen put into a scroll area or a window once built is restyled again each
        # time (about 20 ms of this screen's 50 ms).
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        body = QWidget()
        self._scroll = _Scrolling(body)
        outer.addWidget(self._scroll, 1)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(20, 8, 20, 6)
        layout.setSpacing(6)
        # header
        self.back_button = QPushButton("← Start")
        self.back_button.setToolTip(
            "Back to the start screen; the session keeps running (Alt+Left)"
        )
        self.back_button.clicked.connect(self.back_requested)
        self.title = QLabel()
        self.title.setObjectName("dim")
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
            "The record as PDF, text for the EHR, CSV, FHIR or REMS data (Ctrl+Shift+E)"
        )
        self.export_button.clicked.connect(self.export_requested)
        header.addWidget(self.export_button)
        layout.addLayout(header)
        self.team_bar = TeamBar()  # who is at the keyboard, and the team (the team controller)
        layout.addWidget(self.team_bar)
        top = QHBoxLayout()
        layout.addLayout(top, 2)
        # clocks
        clocks = _panel()
        top.addWidget(clocks, 5)
        clocks_layout = QGridLayout(clocks)
        clocks_layout.addWidget(_heading("Session"), 0, 0)
        clocks_layout.addWidget(_heading("Since dose"), 0, 1)
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
        clocks_layout.setColumnStretch(1, 2)
        # phase
        phase = _panel()
        top.addWidget(phase, 3)
        phase_layout = QVBoxLayout(phase)
        phase_layout.addWidget(_heading("Phase"))
        self.phase_name = QLabel("—")
        self.phase_name.setObjectName("phase")
        self.phase_left = QLabel()
        self.phase_left.setObjectName("dim")
        self.phase_next = QLabel()
        self.phase_next.setObjectName("dim")
        phase_layout.addWidget(self.phase_name)
        phase_layout.addWidget(self.phase_left)
        phase_layout.addWidget(self.phase_next)
        phase_layout.addStretch(1)
        # check-ins
        due = _panel()
        top.addWidget(due, 4)
        due_layout = QVBoxLayout(due)
        due_layout.addWidget(_heading("Check-ins"))
        self.checkin_lines = [QLabel() for _ in range(4)]
        for line in self.checkin_lines:
            due_layout.addWidget(line)
        due_layout.addStretch(1)
        # the shown participant's newest values, with their caution and alert states
        self.last_vitals = LastVitalsTile()
        layout.addWidget(self.last_vitals)
        # others in the room (couples / group)
        self.room_panel = _panel()
        layout.addWidget(self.room_panel)
        room_layout = QVBoxLayout(self.room_panel)
        board_head = QHBoxLayout()
        board_head.addWidget(_heading("Nurse board — most urgent first"))
        board_head.addStretch(1)
        self.stagger_button = QPushButton("Stagger doses…")
        self.stagger_button.setToolTip(
            "Plan the participants' doses a few minutes apart, so one nurse's checks don't collide"
        )
        self.stagger_button.clicked.connect(self.stagger_requested)
        board_head.addWidget(self.stagger_button)
        room_layout.addLayout(board_head)
        self.board = NurseBoard()
        room_layout.addWidget(self.board)
        self.alerts = AlertsBanner()
        layout.addWidget(self.alerts)
        # strip
        self.strip = TimelineStrip()
        strip_panel = _panel()
        layout.addWidget(strip_panel)
        strip_layout = QVBoxLayout(strip_panel)
        strip_head = QHBoxLayout()
        strip_head.addWidget(_heading("Timeline"))
        strip_head.addStretch(1)
        strip_layout.addLayout(strip_head)
        strip_layout.addWidget(self.strip)
        self._strip_head = strip_head
        # actions
        self.marker = QLineEdit()
        self.marker.setPlaceholderText("Add a marker — type and press Enter  (M)")
        self.marker.setAccessibleName("Marker")
        completer = QCompleter(list(MARKER_SUGGESTIONS), self.marker)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.marker.setCompleter(completer)
        self.marker.returnPressed.connect(self._submit_marker)
        self.dose_button = QPushButton("Dose given now  (D)")
        self.dose_button.setObjectName("primary")
        self.dose_button.clicked.connect(self._request_dose)
        self.device_button = QPushButton("Next device given  (V)")
        self.device_button.clicked.connect(self._request_device)
        self.device_button.hide()
        self.discharge_button = QPushButton("Discharge…  (Ctrl+D)")
        self.discharge_button.clicked.connect(self._request_discharge)
        self.end_button = QPushButton("End session  (Ctrl+E)")
        self.end_button.clicked.connect(self.end_requested)
        actions = QHBoxLayout()
        actions.addWidget(self.dose_button)
        actions.addWidget(self.device_button)
        actions.addWidget(self.marker, 1)
        actions.addWidget(self.discharge_button)
        actions.addWidget(self.end_button)
        # messages
        self.failure = QLabel()
        self.failure.setObjectName("banner")
        self.failure.setWordWrap(True)
        self.failure.hide()
        self.saved = QLabel()
        self.saved.setObjectName("notice")
        self.recent = QLabel()
        self.recent.setObjectName("dim")
        self.recent.setWordWrap(True)
        self.ended_label = QLabel()
        self.ended_label.setObjectName("banner")
        self.ended_label.hide()
        self.music_line = ClockLabel(background=theme.PANEL)  # the track's time left: every second
        self.music_line.setObjectName("dim")
        self._strip_head.addWidget(self.music_line, 0, RIGHT_MIDDLE)
        # the nurse's and the therapist's work areas, one at a time
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        layout.addWidget(self.tabs, 5)  # its pages are added in place
        checkin_page = QWidget()
        checkin_layout = QVBoxLayout(checkin_page)
        checkin_layout.setContentsMargins(0, 6, 0, 0)
        self.checkin_form = CheckinForm()
        checkin_layout.addWidget(self.checkin_form)
        checkin_layout.addStretch(1)
        self.music = MusicPanel()
        music_page = QWidget()
        music_layout = QVBoxLayout(music_page)
        music_layout.setContentsMargins(0, 6, 0, 0)
        music_layout.addWidget(self.music)
        music_layout.addStretch(1)
        music_scroll = _Scrolling(music_page)  # the tallest page: it sets no minimum height
        # the pages of the tabs built when first shown: empty until then
        self._pages: dict[str, QWidget] = {}
        self._layouts: dict[str, QVBoxLayout] = {}
        self._built: set[str] = set()
        self._note_pad: NotePadWidget | None = None
        self._events: EventList | None = None
        self._readings: ReadingsTable | None = None
        self._chart: VitalsChart | None = None
        self.tabs.addTab(checkin_page, "Check-in  (C)")
        # the therapist's notes beside the one timeline of everything in the session
        self.notes_page = self._lazy_page(NOTES, "Notes  (N)", margin=0)
        self._lazy_page(READINGS, "Readings  (R)", margin=0)
        self._lazy_page(CHART, "Vitals chart  (G)", margin=0)
        self.tabs.addTab(music_scroll, "Music")
        # the session note and signing: a page the notes controller fills once it is built
        self.record_page = self._lazy_page(RECORD, "Session note and signing", margin=6)
        self.tabs.currentChanged.connect(lambda _i: self._build_shown())  # before the others
        self._marker_keys: list[QShortcut] = []
        self.tabs.currentChanged.connect(lambda _i: self._enable_marker_keys())
        self.tabs.currentChanged.connect(lambda _i: self.tab_shown.emit())
        layout.addWidget(self.ended_label)
        status = QHBoxLayout()
        status.addWidget(self.recent, 1)
        status.addWidget(self.saved)
        # On a small laptop screen (1366x768) with a group and an alert the screen is taller
        # than the window: it scrolls, rather than the window growing past the screen's edge;
        # the actions and the messages stay in view below it.
        footer = QVBoxLayout()
        footer.setContentsMargins(20, 0, 20, 8)
        footer.setSpacing(6)
        footer.addLayout(actions)
        footer.addWidget(self.failure)
        footer.addLayout(status)
        outer.addLayout(footer)
        QShortcut(QKeySequence("D"), self, self._request_dose)
        QShortcut(QKeySequence("N"), self, self.show_notes)
        QShortcut(QKeySequence("Shift+N"), self, self.show_private_notes)
        QShortcut(QKeySequence("Ctrl+Shift+E"), self, self.export_requested.emit)
        QShortcut(QKeySequence("M"), self, self.marker.setFocus)
        QShortcut(QKeySequence("Ctrl+E"), self, self.end_requested.emit)
        QShortcut(QKeySequence("Alt+Left"), self, self.back_requested.emit)
        QShortcut(QKeySequence("Escape"), self, self._escape)
        QShortcut(QKeySequence("C"), self, self.checkin_requested.emit)
        QShortcut(QKeySequence("G"), self, lambda: self.show_tab(CHART))
        QShortcut(QKeySequence("R"), self, self._show_readings)
        QShortcut(QKeySequence("A"), self, self._acknowledge)
        QShortcut(QKeySequence("V"), self, self._request_device)
        QShortcut(QKeySequence("Ctrl+D"), self, self._request_discharge)
        QShortcut(QKeySequence("P"), self, self.music.play_pause_requested.emit)
        QShortcut(QKeySequence("Q"), self, self.music.quiet_requested.emit)
        QShortcut(QKeySequence("Ctrl+Right"), self, self.music.next_requested.emit)
        QShortcut(QKeySequence("Ctrl+Left"), self, self.music.previous_requested.emit)
        QShortcut(QKeySequence("Ctrl+Up"), self, lambda: self._nudge_volume(5))
        QShortcut(QKeySequence("Ctrl+Down"), self, lambda: self._nudge_volume(-5))

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
        self.tabs.setCurrentWidget(self._pages[name])

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
        self.title.setText("  ·  ".join([record.participant_names, *parts]))
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
        self.training.setVisible(training)
        self.tabs.setCurrentIndex(0)  # a session opens on the check-in, not where the last one was
        self.failure.hide()
        self.saved.clear()
        self.marker.clear()

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
    ) -> None:
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
        if window is not None:
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
        upcoming = state.next_checkins(len(self.checkin_lines))
        for line, checkin in zip(self.checkin_lines, upcoming, strict=False):
            text, colour = checkin_text(checkin, state)
            line.setText(text)
            _set_colour(line, colour)
            line.show()
        for line in self.checkin_lines[len(upcoming) :]:
            line.setText("")
            line.hide()
        if not upcoming:
            self.checkin_lines[0].setText("All check-ins done")
            _set_colour(self.checkin_lines[0], theme.DONE)
            self.checkin_lines[0].show()
        if not self.room_panel.isHidden():  # filled before the screen is shown, too
            self.board.show_rows(room, planned)
        self.strip.show_state(state, marks)
        self.dose_button.setEnabled(live)
        self.marker.setEnabled(live)
        self.end_button.setEnabled(live)
        if not live and state.ended_at is not None:
            self.ended_label.setText(f"Session ended at {local_time(state.ended_at)}.")
            self.ended_label.show()
        else:
            self.ended_label.hide()
        # After the first dose the button records a booster: no longer the main action.
        booster = state.first_dose_at is not None
        wanted = "booster" if booster else "primary"
        if self.dose_button.objectName() != wanted:
            self.dose_button.setObjectName(wanted)
            self.dose_button.setText("Booster given now  (D)" if booster else "Dose given now  (D)")
            self.dose_button.style().unpolish(self.dose_button)
            self.dose_button.style().polish(self.dose_button)

    def show_recent(self, lines: list[str]) -> None:
        self.recent.setText("   ·   ".join(lines))

    def show_saved(self, message: str) -> None:
        self.failure.hide()
        self.saved.setText(message)

    def show_failure(self, message: str) -> None:
        self.failure.setText(message)
        self.failure.show()

    def marker_saved(self) -> None:
        self.marker.clear()

    def show_notes(self) -> None:
        """N: the Notes tab, with the keys in the box of the session notes."""
        self.show_tab(NOTES)
        self.note_pad.show_pad(Pad.RECORD)

    def show_private_notes(self) -> None:
        """Shift+N: the Notes tab on the private pad."""
        self.show_tab(NOTES)
        self.note_pad.show_pad(Pad.PRIVATE)

    def set_record_page(self, page: QWidget) -> None:
        """The session note page, in a scroll area: it is tall, and must not make the whole
        screen taller on a small laptop."""
        scroll = QScrollArea()
        scroll.setWidget(page)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._layouts[RECORD].addWidget(scroll)

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

    # actions ------------------------------------------------------------------------------
    def _request_dose(self) -> None:
        if not self.dose_button.isEnabled():
            return
        participant = self.current_participant()
        if participant is not None:
            self.dose_requested.emit(participant)

    def _submit_marker(self) -> None:
        text = self.marker.text().strip()
        if not text:
            self.show_failure("Type what happened, then press Enter. Nothing was saved.")
            return
        self.marker_requested.emit(text, self.current_participant())

    def focus_checkin(self) -> None:
        self.tabs.setCurrentIndex(0)
        self._scroll.ensureWidgetVisible(self.checkin_form, 0, 0)  # the whole form, if it fits
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

    def _request_discharge(self) -> None:
        participant = self.current_participant()
        if participant is not None and self.discharge_button.isEnabled():
            self.discharge_requested.emit(participant)

    def _nudge_volume(self, step: int) -> None:
        slider = self.music.volume
        slider.setValue(max(0, min(slider.maximum(), slider.value() + step)))

    def _escape(self) -> None:
        """Esc takes the keys out of a text box, so single-key shortcuts work again."""
        focus = QApplication.focusWidget()
        pad = self._note_pad
        if focus is self.marker or (pad is not None and focus in pad.inputs.values()):
            assert focus is not None
            focus.clearFocus()
            self.setFocus()


def _set_colour(label: QLabel, colour: str) -> None:
    """Restyling a label re-polishes it: only do it when the colour really changes (ticks
    come four times a second)."""
    if label.property("colour") != colour:
        label.setProperty("colour", colour)
        label.setStyleSheet(f"color: {colour};")
