"""The start screen: live sessions to resume, ended sessions to sign, the client list, and a new
session."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:  # the window's first frame is this view: it imports only what it draws
    from kapsession.records.people import ClientRecord
    from kapsession.records.sessions import SessionSummary

LOADING = "Loading…"
DISCLAIMER = (
    "kapsession documents the session and reminds; it does not replace monitoring equipment "
    "or clinical judgement."
)


def _panel() -> QFrame:
    frame = QFrame()
    frame.setObjectName("panel")
    return frame


def _heading(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("heading")
    return label


class StartView(QWidget):
    resume_requested = Signal(uuid.UUID)
    new_client_requested = Signal()
    start_session_requested = Signal(object)  # uuid.UUID of the selected client, or None
    history_requested = Signal(uuid.UUID)  # the selected client's course history
    profile_requested = Signal(uuid.UUID)  # the selected client's profile (issue 17)
    measure_requested = Signal(uuid.UUID)  # a questionnaire from paper for them (issue 17)
    course_requested = Signal(uuid.UUID)  # their course: plan and sessions (issue 17, O)
    next_in_course_requested = Signal(uuid.UUID)  # start the session due next (issue 17, J)
    client_questionnaire_requested = Signal(uuid.UUID)  # the client fills one on the screen
    consent_requested = Signal(uuid.UUID)  # the selected client's consents (issue 17)
    client_selected = Signal(uuid.UUID)  # a client chosen in the list: their consent line (17)
    add_staff_requested = Signal()  # the staff accounts (the administrator's, issue 18)
    lock_requested = Signal()  # Ctrl+L (issue 18)
    search_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Each part is added to the screen before it is filled: with the room's style sheet a
        # widget given a parent is restyled with everything it already holds.
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.setSpacing(14)
        title = QLabel("kapsession")
        title.setObjectName("phase")
        self.training = QLabel("TRAINING — practice data, not a clinical record")
        self.training.setObjectName("training")
        self.training.hide()
        header = QHBoxLayout()
        header.addWidget(title)
        header.addWidget(self.training)
        header.addStretch(1)
        layout.addLayout(header)
        # live sessions
        self.live_panel = _panel()
        layout.addWidget(self.live_panel)
        live_layout = QVBoxLayout(self.live_panel)
        live_layout.addWidget(_heading("Live session — still running"))
        self.live_list = QListWidget()
        self.live_list.setAccessibleName("Live sessions")
        self.live_list.setMaximumHeight(120)
        self.live_list.itemActivated.connect(self._resume_item)
        self.resume_button = QPushButton("Resume session")
        self.resume_button.setObjectName("primary")
        self.resume_button.clicked.connect(self._resume_current)
        live_layout.addWidget(self.live_list)
        live_layout.addWidget(self.resume_button, alignment=Qt.AlignmentFlag.AlignLeft)
        # ended sessions: to sign, or signed lately (for an addendum)
        self.ended_panel = _panel()
        layout.addWidget(self.ended_panel)
        ended_layout = QVBoxLayout(self.ended_panel)
        ended_layout.addWidget(_heading("Ended sessions — session note, signing, addenda"))
        self.ended_list = QListWidget()
        self.ended_list.setAccessibleName("Ended sessions")
        self.ended_list.setMaximumHeight(150)
        self.ended_list.itemActivated.connect(self._resume_item)
        self.open_ended_button = QPushButton("Open to write and sign")
        self.open_ended_button.clicked.connect(self._open_ended_current)
        self.open_ended_button.setAutoDefault(True)
        ended_layout.addWidget(self.ended_list)
        ended_layout.addWidget(self.open_ended_button, alignment=Qt.AlignmentFlag.AlignLeft)
        self.ended_panel.hide()
        # clients
        clients_panel = _panel()
        layout.addWidget(clients_panel, 1)
        clients_layout = QVBoxLayout(clients_panel)
        clients_layout.addWidget(_heading("Clients"))
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name or record number  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.search_changed)
        self.search.returnPressed.connect(self._focus_clients)
        self.client_list = QListWidget()
        self.client_list.setUniformItemSizes(True)  # one line each: no item measured alone
        self.client_list.setAccessibleName("Clients")
        self.client_list.itemActivated.connect(lambda _item: self._start_for_current())
        self.empty_hint = QLabel("No clients yet. Add one with New client (Ctrl+N).")
        self.empty_hint.setObjectName("dim")
        buttons = QHBoxLayout()
        self.new_client_button = QPushButton("New client…")
        self.new_client_button.clicked.connect(self.new_client_requested)
        self.start_button = QPushButton("Start session…")
        self.start_button.setObjectName("primary")
        self.start_button.clicked.connect(self._start_for_current)
        self.staff_button = QPushButton("Staff accounts…")
        self.staff_button.setToolTip(
            "The clinic administrator adds, disables and resets staff accounts (passphrase)"
        )
        self.staff_button.clicked.connect(self.add_staff_requested)
        self.history_button = QPushButton("History  (H)")
        self.history_button.clicked.connect(self._history_for_current)
        self.profile_button = QPushButton("Profile…  (P)")
        self.profile_button.setAutoDefault(True)
        self.profile_button.clicked.connect(self._profile_for_current)
        profile = QShortcut(QKeySequence(Qt.Key.Key_P), self.client_list, self._profile_for_current)
        profile.setContext(Qt.ShortcutContext.WidgetShortcut)  # P types a P everywhere else
        self.measure_button = QPushButton("Questionnaire…  (Q)")
        self.measure_button.setAutoDefault(True)
        self.measure_button.clicked.connect(self._measure_for_current)
        measure = QShortcut(QKeySequence(Qt.Key.Key_Q), self.client_list, self._measure_for_current)
        measure.setContext(Qt.ShortcutContext.WidgetShortcut)  # Q types a Q everywhere else
        # issue 17: the client's course (O) and the session due next in it (J)
        self.course_button = QPushButton("Course…  (O)")
        self.course_button.setAutoDefault(True)
        self.course_button.clicked.connect(lambda: self._emit_for_current(self.course_requested))
        course = QShortcut(
            QKeySequence(Qt.Key.Key_O),
            self.client_list,
            lambda: self._emit_for_current(self.course_requested),
        )
        course.setContext(Qt.ShortcutContext.WidgetShortcut)  # O types an O everywhere else
        self.next_button = QPushButton("Next in course…  (J)")
        self.next_button.setAutoDefault(True)
        self.next_button.clicked.connect(
            lambda: self._emit_for_current(self.next_in_course_requested)
        )
        following = QShortcut(
            QKeySequence(Qt.Key.Key_J),
            self.client_list,
            lambda: self._emit_for_current(self.next_in_course_requested),
        )
        following.setContext(Qt.ShortcutContext.WidgetShortcut)  # J types a J everywhere else
        self.client_measure_button = QPushButton("On the screen…  (Shift+Q)")
        self.client_measure_button.setToolTip(
            "The client fills a questionnaire on the full screen; leaving it needs a staff PIN"
        )
        self.client_measure_button.setAutoDefault(True)
        self.client_measure_button.clicked.connect(self._client_measure_for_current)
        client_measure = QShortcut(
            QKeySequence("Shift+Q"), self.client_list, self._client_measure_for_current
        )
        client_measure.setContext(Qt.ShortcutContext.WidgetShortcut)
        self.consent_button = QPushButton("Consent…  (K)")  # issue 17
        self.consent_button.setAutoDefault(True)
        self.consent_button.clicked.connect(self._consent_for_current)
        consent = QShortcut(QKeySequence(Qt.Key.Key_K), self.client_list, self._consent_for_current)
        consent.setContext(Qt.ShortcutContext.WidgetShortcut)  # K types a K everywhere else
        clients_layout.addWidget(self.search)
        clients_layout.addWidget(self.client_list, 1)
        # the selected client's consents (issue 17): whether a dosing session may start
        self.consent_line = QLabel()
        self.consent_line.setAccessibleName("Consent")
        self.consent_line.setWordWrap(True)
        self.consent_line.hide()
        self.client_list.currentItemChanged.connect(self._client_changed)
        clients_layout.addWidget(self.consent_line)
        clients_layout.addWidget(self.empty_hint)
        # Two rows, to fit a 1280-pixel screen: the sessions, then the client's own record.
        for button in (
            self.start_button,
            self.next_button,
            self.history_button,
            self.course_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.new_client_button)
        buttons.addWidget(self.staff_button)
        record_buttons = QHBoxLayout()
        for button in (
            self.profile_button,
            self.consent_button,
            self.measure_button,
            self.client_measure_button,
        ):
            record_buttons.addWidget(button)
        record_buttons.addStretch(1)
        clients_layout.addLayout(buttons)
        clients_layout.addLayout(record_buttons)
        self.backup_problem = QLabel()
        self.backup_problem.setObjectName("notice")
        self.backup_problem.setAccessibleName("Backup problem")
        self.backup_problem.setWordWrap(True)
        self.backup_problem.hide()
        disclaimer = QLabel(DISCLAIMER)
        disclaimer.setObjectName("notice")
        disclaimer.setWordWrap(True)
        layout.addWidget(self.backup_problem)
        layout.addWidget(disclaimer)
        # Outside a dialog a focused button ignores Enter unless it is auto-default.
        for button in (
            self.resume_button,
            self.start_button,
            self.history_button,
            self.new_client_button,
            self.staff_button,
        ):
            button.setAutoDefault(True)
        QShortcut(QKeySequence("Ctrl+N"), self, self.new_client_requested.emit)
        QShortcut(QKeySequence("Ctrl+L"), self, self.lock_requested.emit)
        QShortcut(QKeySequence("Ctrl+F"), self, self.search.setFocus)
        QShortcut(QKeySequence("Ctrl+Return"), self, self._start_for_current)
        history = QShortcut(QKeySequence(Qt.Key.Key_H), self.client_list, self._history_for_current)
        history.setContext(Qt.ShortcutContext.WidgetShortcut)  # H types an H everywhere else
        self.setTabOrder(self.search, self.client_list)
        self._loading = False

    @property
    def loading(self) -> bool:
        """The client list still says it is loading (`show_loading`), not yet filled."""
        return self._loading

    def show_loading(self) -> None:
        """The first frame, before the database is read: the client list says it is loading;
        `show_clients` replaces that."""
        self.client_list.clear()
        item = QListWidgetItem(LOADING)
        item.setFlags(Qt.ItemFlag.NoItemFlags)  # not a client: cannot be chosen
        self.client_list.addItem(item)
        self.empty_hint.hide()
        self._loading = True

    def set_training(self, training: bool) -> None:
        self.training.setVisible(training)

    def show_backup_problem(self, message: str) -> None:
        """A quiet line above the disclaimer until the next backup is made; "" hides it."""
        self.backup_problem.setText(message)
        self.backup_problem.setVisible(bool(message))

    def show_live_sessions(self, sessions: list[SessionSummary]) -> None:
        self.live_list.clear()
        for summary in sessions:
            started = (
                summary.started_at.astimezone().strftime("%a %d %b, %H:%M")
                if (summary.started_at)
                else "?"
            )
            item = QListWidgetItem(
                f"{', '.join(summary.participants)}  ·  {summary.protocol_name}  ·  "
                f"started {started}" + (f"  ·  {summary.room}" if summary.room else "")
            )
            item.setData(Qt.ItemDataRole.UserRole, summary.id)
            self.live_list.addItem(item)
        self.live_panel.setVisible(bool(sessions))
        if sessions:
            self.live_list.setCurrentRow(0)
            self.resume_button.setFocus()

    def show_ended_sessions(self, sessions: list[SessionSummary]) -> None:
        """Sessions awaiting signature first, then recently signed ones."""
        from kapsession.records.sessions import SessionStatus  # not before the first frame

        current = self.ended_list.currentItem()
        keep = None if current is None else current.data(Qt.ItemDataRole.UserRole)
        self.ended_list.clear()
        for summary in sessions:
            when = (summary.started_at or summary.created_at).astimezone()
            state = "signed — addenda only" if summary.status == SessionStatus.SIGNED else "to sign"
            item = QListWidgetItem(
                f"{state}  ·  {', '.join(summary.participants)}  ·  {summary.protocol_name}  ·  "
                f"{when.strftime('%a %d %b, %H:%M')}"
            )
            item.setData(Qt.ItemDataRole.UserRole, summary.id)
            self.ended_list.addItem(item)
            if summary.id == keep:
                self.ended_list.setCurrentItem(item)
        if self.ended_list.currentRow() < 0 and sessions:
            self.ended_list.setCurrentRow(0)
        self.ended_panel.setVisible(bool(sessions))

    def _open_ended_current(self) -> None:
        item = self.ended_list.currentItem()
        if item is not None:
            self._resume_item(item)

    def show_clients(self, clients: list[ClientRecord]) -> None:
        current = self.selected_client()
        self.client_list.clear()
        self._loading = False
        for client in clients:
            extra = f"   {client.record_number}" if client.record_number else ""
            item = QListWidgetItem(f"{client.family_name}, {client.given_name}{extra}")
            item.setData(Qt.ItemDataRole.UserRole, client.id)
            self.client_list.addItem(item)
            if client.id == current:
                self.client_list.setCurrentItem(item)
        if self.client_list.currentRow() < 0 and clients:
            self.client_list.setCurrentRow(0)
        self.empty_hint.setVisible(not clients and not self.search.text())

    def select_client(self, client_id: uuid.UUID) -> None:
        for row in range(self.client_list.count()):
            item = self.client_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == client_id:
                self.client_list.setCurrentItem(item)
                self.client_list.setFocus()
                return

    def selected_client(self) -> uuid.UUID | None:
        item = self.client_list.currentItem()
        data = None if item is None else item.data(Qt.ItemDataRole.UserRole)
        return data if isinstance(data, uuid.UUID) else None

    def _focus_clients(self) -> None:
        self.client_list.setFocus()

    def _start_for_current(self) -> None:
        self.start_session_requested.emit(self.selected_client())

    def _history_for_current(self) -> None:
        client = self.selected_client()
        if client is not None:
            self.history_requested.emit(client)

    def _profile_for_current(self) -> None:
        client = self.selected_client()
        if client is not None:
            self.profile_requested.emit(client)

    def _emit_for_current(self, signal: SignalInstance) -> None:
        client = self.selected_client()
        if client is not None:
            signal.emit(client)

    def _consent_for_current(self) -> None:
        client = self.selected_client()
        if client is not None:
            self.consent_requested.emit(client)

    def _client_changed(self, item: QListWidgetItem | None, _previous: object) -> None:
        data = None if item is None else item.data(Qt.ItemDataRole.UserRole)
        if isinstance(data, uuid.UUID):
            self.client_selected.emit(data)
        else:
            self.consent_line.hide()

    def show_consent_line(self, text: str, *, warn: bool) -> None:
        """The selected client's consent line (issue 17); `warn`: no current KAP consent."""
        self.consent_line.setText(text)
        self.consent_line.setObjectName("notice" if warn else "dim")
        self.consent_line.style().unpolish(self.consent_line)  # the new name's colours
        self.consent_line.style().polish(self.consent_line)
        self.consent_line.show()

    def _measure_for_current(self) -> None:
        client = self.selected_client()
        if client is not None:
            self.measure_requested.emit(client)

    def _client_measure_for_current(self) -> None:
        client = self.selected_client()
        if client is not None:
            self.client_questionnaire_requested.emit(client)

    def _resume_item(self, item: QListWidgetItem) -> None:
        self.resume_requested.emit(item.data(Qt.ItemDataRole.UserRole))

    def _resume_current(self) -> None:
        item = self.live_list.currentItem()
        if item is not None:
            self._resume_item(item)
