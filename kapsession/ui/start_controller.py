"""The start screen: the lists of sessions and clients, search, a client's history, a new
client, a new staff member, and starting a session. Opening a session is the composer's
(`AppController`): this one asks for it with `open_requested`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog

from kapsession.domain.clock import Clock
from kapsession.domain.dose_order import OrderSource
from kapsession.records.errors import StorageError
from kapsession.records.measures import MeasureRecord
from kapsession.services.pins import PinService
from kapsession.services.protocols import UnknownProtocol
from kapsession.services.session_service import OrderEntry, SessionService
from kapsession.ui.main_window import MainWindow
from kapsession.ui.messages import problem

CONSENT_OVERRIDE_PURPOSE = "start a session without current consent"

if TYPE_CHECKING:
    from kapsession.services.client_history import ClientHistoryService
    from kapsession.services.pre_dose import ConsentMissing, ConsentOverride
    from kapsession.ui.dialogs import NewSessionDialog


def _date(when: datetime) -> str:
    return when.astimezone().strftime("%d %b %Y")


class StartController(QObject):
    open_requested = Signal(uuid.UUID)  # a session to open: resumed, or just started

    def __init__(
        self,
        window: MainWindow,
        service: SessionService,
        history: Callable[[], ClientHistoryService],
        clock: Clock,
        *,
        room: str = "",
        parent: QObject | None = None,
        pins: PinService | None = None,
        training: Callable[[], bool] = lambda: False,
        manage_accounts: Callable[[], None] | None = None,
    ) -> None:
        """`history`: the clients' histories, asked for when first needed; `pins`: the staff
        PINs, for the prescriber's override of a missing consent (17) and the person exporting
        a course summary (18); `training`: whether the data is training data (its exports need
        no PIN); `manage_accounts`: the administrator's staff accounts (issue 18), asked for by
        the start screen's Staff accounts (None, training mode: a staff member is added at
        once, to practice data)."""
        super().__init__(parent)
        self.pins = pins
        self._training = training
        self._manage_accounts = manage_accounts
        self.window = window
        self.service = service
        self._history = history
        self.clock = clock
        self.room = room  # offered in the new session dialog: the room's, or the last one used
        self._summaries: QObject | None = None  # the course summary's export (issue 17)
        self._measure_corrections = False  # Enter on a questionnaire connected (issue 17)
        start = window.start_view
        start.search_changed.connect(self._on_search)
        start.new_client_requested.connect(self._on_new_client)
        start.add_staff_requested.connect(self._on_add_staff)
        start.start_session_requested.connect(self._on_start_session)
        start.resume_requested.connect(self.open_requested)
        start.history_requested.connect(self._on_history)
        start.profile_requested.connect(self._on_profile)
        start.measure_requested.connect(self._on_measure)
        start.course_requested.connect(self._on_course)  # issue 17: O
        start.next_in_course_requested.connect(self._on_next_in_course)  # issue 17: J
        start.consent_requested.connect(self._on_consent)
        start.client_selected.connect(self._show_consent_line)
        window.history_back_requested.connect(self._on_history_back)  # built when first used

    @property
    def history(self) -> ClientHistoryService:
        return self._history()

    # the lists ----------------------------------------------------------------------------
    def refresh(self) -> None:
        try:
            self.window.start_view.show_live_sessions(self.service.live_sessions())
            self.window.start_view.show_ended_sessions(
                self.service.ended_sessions(self.clock.now())
            )
            self.window.start_view.show_clients(
                self.service.clients.search(self.window.start_view.search.text())
            )
        except StorageError as exc:
            self._problem("Cannot read the session database", str(exc))

    def report_protocol_problems(self) -> None:
        _choices, problems = self.service.catalog.scan()
        if problems:
            self.window.statusBar().showMessage(
                f"{len(problems)} protocol file(s) have errors and are not offered: "
                + "; ".join(str(p) for p in problems[:2])
            )

    def _on_search(self, text: str) -> None:
        try:
            self.window.start_view.show_clients(self.service.clients.search(text))
        except StorageError as exc:
            self._problem("Cannot search clients", str(exc))

    def _on_history(self, client_id: uuid.UUID) -> None:
        try:
            history = self.history.history(client_id)
        except StorageError as exc:
            self._problem("The client's history cannot be read", str(exc))
            return
        self.window.history_view.show_history(history)
        self._connect_summaries()
        self._connect_measure_corrections()
        self.window.show_history()

    def _connect_summaries(self) -> None:
        """Ctrl+Shift+E on the history exports the course summary (issue 17)."""
        if self._summaries is None:
            from kapsession.services.course_summary import CourseSummaryService
            from kapsession.ui.course_summary_controller import CourseSummaryController

            summaries = CourseSummaryService(self.service.database, self.clock)
            self._summaries = CourseSummaryController(
                self.window,
                summaries,
                self.clock,
                parent=self,
                service=self.service,
                pins=self.pins,
                training=self._training,
            )

    def _connect_measure_corrections(self) -> None:
        """Enter on a questionnaire of the history corrects or withdraws it (issue 17)."""
        if not self._measure_corrections:
            self._measure_corrections = True
            self.window.history_view.measure_correction_requested.connect(self._on_correct_measure)

    def _on_correct_measure(self, record: MeasureRecord) -> None:
        """The questionnaire in the entry dialog with its answers, to correct (a new version,
        the earlier one kept) or withdraw, with the reason and who is correcting it; the
        history shown again as it now stands."""
        from kapsession.services.outcome_measures import MeasureInvalid
        from kapsession.ui.correction_dialogs import WITHDRAW
        from kapsession.ui.measure_dialog import MeasureDialog, MeasureEntry

        measures = self.service.measures
        try:
            client = self.service.clients.get(record.client_id)
            sessions = self.history.history(record.client_id).sessions
            staff = self.service.staff.active()
        except StorageError as exc:
            self._problem("The questionnaire cannot be opened", str(exc))
            return
        dialog = MeasureDialog(
            client, staff, sessions, self.clock.now(), self.window, correcting=record
        )

        def save(entry: MeasureEntry) -> None:
            try:
                if entry.action == WITHDRAW:
                    measures.withdraw(
                        record.id, reason=entry.reason, at=self.clock.now(), by=entry.by
                    )
                    message = f"{record.instrument.name} withdrawn."
                else:
                    saved = measures.correct(
                        record.id,
                        entry.key,
                        entry.answers,
                        reason=entry.reason,
                        at=self.clock.now(),
                        by=entry.by,
                        administered_at=entry.administered_at,
                    )
                    message = saved.message.replace(" saved", " corrected", 1)
            except MeasureInvalid as exc:
                dialog.show_problems([str(exc)])
                return
            except StorageError as exc:
                dialog.show_problems([f"The correction was not saved: {exc}"])
                return
            dialog.saved()
            self._on_history(record.client_id)
            self.window.history_view.measures.select_record(record.id)
            self.window.history_view.measures.setFocus()
            self.window.statusBar().showMessage(f"{client.full_name}: {message}", 15000)

        dialog.save_requested.connect(save)
        dialog.exec()

    def _on_history_back(self) -> None:
        client_id = self.window.history_view.client_id
        self.window.show_start()
        if client_id is not None:
            self.window.start_view.select_client(client_id)  # the list has the focus again

    # people -------------------------------------------------------------------------------
    def _on_new_client(self) -> None:
        from kapsession.ui.dialogs import ClientDialog  # the dialogs: when first used

        dialog = ClientDialog(self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        value = dialog.value()
        if value is None:
            return
        try:
            client = self.service.add_client(
                value.given_name,
                value.family_name,
                at=self.clock.now(),
                date_of_birth=value.date_of_birth,
                record_number=value.record_number or None,
            )
        except StorageError as exc:
            self._problem("The client was not saved", str(exc))
            return
        self.window.start_view.search.clear()
        self.refresh()
        self.window.start_view.select_client(client.id)
        self.window.statusBar().showMessage(f"Client {client.full_name} saved.", 8000)

    def _on_profile(self, client_id: uuid.UUID) -> None:
        """The client's profile, to see and change (issue 17): one version per save."""
        from kapsession.services.client_profiles import ProfileInvalid
        from kapsession.ui.profile_dialog import ProfileDialog, ProfileEntry

        profiles = self.service.profiles
        try:
            client = self.service.clients.get(client_id)
            history = profiles.history(client_id)
            staff = self.service.staff.active()
        except StorageError as exc:
            self._problem("The client's profile cannot be read", str(exc))
            return
        dialog = ProfileDialog(
            client, history[-1] if history else None, history, staff, self.window
        )

        def save(entry: ProfileEntry) -> None:
            try:
                saved = profiles.save(
                    client_id,
                    entry.profile,
                    at=self.clock.now(),
                    by=entry.by,
                    based_on=entry.based_on,
                    reason=entry.reason,
                    identity=entry.identity,
                )
            except ProfileInvalid as exc:
                dialog.show_problems(exc.problems)
                return
            except StorageError as exc:
                dialog.show_problems([f"The profile was not saved: {exc}"])
                return
            dialog.saved()
            if saved.version is not None or saved.client != client:
                self.refresh()
                self.window.start_view.select_client(client_id)
                self.window.statusBar().showMessage(
                    f"Profile of {saved.client.full_name} saved.", 8000
                )

        dialog.save_requested.connect(save)
        dialog.exec()

    def _on_measure(self, client_id: uuid.UUID) -> None:
        """A questionnaire from the client's paper form (issue 17), saved as one
        administration named with who entered it."""
        from kapsession.services.outcome_measures import MeasureInvalid
        from kapsession.ui.measure_dialog import MeasureDialog, MeasureEntry

        measures = self.service.measures
        try:
            client = self.service.clients.get(client_id)
            sessions = self.history.history(client_id).sessions
            staff = self.service.staff.active()
        except StorageError as exc:
            self._problem("The questionnaire cannot be opened", str(exc))
            return
        dialog = MeasureDialog(client, staff, sessions, self.clock.now(), self.window)

        def save(entry: MeasureEntry) -> None:
            try:
                saved = measures.save(
                    client_id,
                    entry.key,
                    entry.answers,
                    administered_at=entry.administered_at,
                    at=self.clock.now(),
                    by=entry.by,
                    session_id=entry.session_id,
                )
            except MeasureInvalid as exc:
                dialog.show_problems([str(exc)])
                return
            except StorageError as exc:
                dialog.show_problems([f"The questionnaire was not saved: {exc}"])
                return
            dialog.saved()
            self.window.start_view.select_client(client_id)
            self.window.statusBar().showMessage(f"{client.full_name}: {saved.message}", 15000)

        dialog.save_requested.connect(save)
        dialog.exec()

    def _on_course(self, client_id: uuid.UUID) -> None:
        """The client's course (O, issue 17): the plan to enter or change, one version per
        save, with the course's sessions and what is due next."""
        from kapsession.domain.roles import TeamRole
        from kapsession.services.course import PlanInvalid
        from kapsession.ui.course_dialog import CourseDialog, CourseEntry

        course = self.service.course
        try:
            client = self.service.clients.get(client_id)
            overview = course.overview(client_id)
            staff = self.service.staff.active()
        except StorageError as exc:
            self._problem("The client's course cannot be read", str(exc))
            return
        choices, _problems = self.service.catalog.scan()
        dosing = {}
        for choice in choices:
            spec = choice.protocol.dosing
            if choice.protocol.gives_dose and (spec.medication, spec.route) not in dosing:
                dosing[spec.medication, spec.route] = spec
        prescribers = [s for s in staff if self.service.roles.may(TeamRole.PRESCRIBER, s.role)]
        dialog = CourseDialog(
            client,
            overview.history,
            overview.sessions,
            None if overview.next is None else overview.next.label(),
            overview.intentions,
            staff,
            prescribers,
            dosing,
            self.window,
        )

        def save(entry: CourseEntry) -> None:
            try:
                course.save_plan(
                    client_id,
                    entry.plan,
                    at=self.clock.now(),
                    by=entry.by,
                    based_on=entry.based_on,
                    reason=entry.reason,
                )
            except PlanInvalid as exc:
                dialog.show_problems(exc.problems)
                return
            except StorageError as exc:
                dialog.show_problems([f"The plan was not saved: {exc}"])
                return
            dialog.saved()
            self.window.start_view.select_client(client_id)
            self.window.statusBar().showMessage(f"Course plan of {client.full_name} saved.", 8000)

        dialog.save_requested.connect(save)
        dialog.exec()

    def _on_add_staff(self) -> None:
        if self._manage_accounts is not None:  # only the administrator (issue 18)
            self._manage_accounts()
            return
        from kapsession.ui.dialogs import StaffDialog

        dialog = StaffDialog(self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            member = self.service.add_staff(
                dialog.name.text(),
                dialog.role.currentData(),
                at=self.clock.now(),
                credentials=dialog.credentials.text(),
            )
        except StorageError as exc:
            self._problem("The staff member was not saved", str(exc))
            return
        self.window.statusBar().showMessage(f"{member.signature_name} added.", 8000)

    # a new session ------------------------------------------------------------------------
    def _on_start_session(self, client_id: uuid.UUID | None) -> None:
        choices, problems = self.service.catalog.scan()
        if not choices:
            self._problem(
                "No protocol can be used",
                "No valid protocol file was found, so a session cannot start.\n"
                + "\n".join(str(p) for p in problems),
            )
            return
        try:
            clients = self.service.clients.search("")
            staff = self.service.staff.active()
        except StorageError as exc:
            self._problem("Cannot read the session database", str(exc))
            return
        if not clients:
            self._problem("No client yet", "Add the client first with New client (Ctrl+N).")
            return
        from kapsession.ui.dialogs import NewSessionDialog

        dialog = NewSessionDialog(
            choices, clients, staff, client_id, self.room, self.window, self.service.roles
        )
        dialog.choose_protocol(self._last_protocol(client_id))
        if client_id is not None:
            self._offer_course(dialog, client_id, self._last_protocol(client_id))
        self._run_new_session(dialog)

    def _offer_course(
        self, dialog: NewSessionDialog, client_id: uuid.UUID, protocol_key: str | None
    ) -> None:
        """The client's course in the new-session dialog (issue 17): the standing order
        offered as the order, the dosing sessions an integration session may follow."""
        course = self.service.course
        try:
            order = course.standing_order(client_id)
            dosing = course.dosing_sessions(client_id)
            follows = course.default_follows(client_id)
        except StorageError:
            return  # the dialog offers the protocol's usual order; nothing is lost
        labels = [
            (s.session_id, f"Dosing {n}: {s.protocol_name}, {_date(s.started_at or s.created_at)}")
            for n, s in enumerate(dosing, start=1)
        ]
        dialog.offer_course(protocol_key, order=order, dosing_sessions=labels, follows=follows)

    def _on_next_in_course(self, client_id: uuid.UUID) -> None:
        """ "Next in course" (J, issue 17): the new-session dialog with the session due next
        in the client's course, its template chosen."""
        choices, problems = self.service.catalog.scan()
        try:
            offered = self.service.course.next_session(client_id)
            clients = self.service.clients.search("")
            staff = self.service.staff.active()
        except StorageError as exc:
            self._problem("The client's course cannot be read", str(exc))
            return
        if offered is None:
            self._problem(
                "Next in course",
                "Every session of this client's course plan was given, its follow-up too. "
                "Change the plan (O) or start a session with Start session.",
            )
            return
        if offered.protocol_key is None:
            self._problem(
                "Next in course",
                f"{offered.label()} is due, but the clinic has no valid protocol for it.\n"
                + "\n".join(str(p) for p in problems),
            )
            return
        from kapsession.ui.dialogs import NewSessionDialog

        dialog = NewSessionDialog(
            choices, clients, staff, client_id, self.room, self.window, self.service.roles
        )
        dialog.setWindowTitle(f"Next in course: {offered.label()}")
        self._offer_course(dialog, client_id, offered.protocol_key)
        self._run_new_session(dialog)

    def _run_new_session(self, dialog: NewSessionDialog) -> None:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        value = dialog.value()
        if value is None:
            return
        follows = None
        if value.follows_session_id is not None and value.client_ids:
            follows = {value.client_ids[0]: value.follows_session_id}
        self.start_session(
            protocol_key=value.protocol_key,
            client_ids=value.client_ids,
            modality=value.modality,
            room=value.room,
            therapist_id=value.therapist_id,
            nurse_id=value.nurse_id,
            prescriber_id=value.prescriber_id,
            monitors=value.monitors,
            order=(
                None
                if value.order is None or value.ordered_by is None
                else OrderEntry(
                    value.order,
                    value.ordered_by,
                    source=(
                        OrderSource.COURSE_PLAN
                        if value.order_from_plan
                        else OrderSource.SESSION_START
                    ),
                )
            ),
            follows=follows,
        )

    def _last_protocol(self, client_id: uuid.UUID | None) -> str | None:
        """The protocol of the client's last session (None: no client, none, or not read)."""
        if client_id is None:
            return None
        try:
            return self.history.last_protocol_key(client_id)
        except StorageError:
            return None  # the dialog offers its first protocol; nothing is lost

    def start_session(
        self,
        *,
        protocol_key: str,
        client_ids: tuple[uuid.UUID, ...],
        modality: str,
        room: str = "",
        therapist_id: uuid.UUID | None = None,
        nurse_id: uuid.UUID | None = None,
        prescriber_id: uuid.UUID | None = None,
        monitors: dict[uuid.UUID, uuid.UUID] | None = None,
        order: OrderEntry | None = None,
        follows: dict[uuid.UUID, uuid.UUID] | None = None,
    ) -> None:
        """Start the session on the clock's now, then ask for it to be opened; `order`: the
        prescriber's order for each participant (issue 16); `follows`: the dosing session an
        integration session follows (issue 17)."""
        from kapsession.services.pre_dose import ConsentMissing

        self.room = room or self.room
        override: ConsentOverride | None = None
        while True:
            try:
                record = self.service.start_dosing_session(
                    protocol_key=protocol_key,
                    client_ids=client_ids,
                    modality=modality,
                    at=self.clock.now(),
                    consent_override=override,
                    room=room,
                    therapist_id=therapist_id,
                    nurse_id=nurse_id,
                    prescriber_id=prescriber_id,
                    monitors=monitors,
                    order=order,
                    by=therapist_id,
                    follows=follows,
                )
            except ConsentMissing as missing:  # issue 17: the prescriber may override
                override = self._consent_override(missing, prescriber_id)
                if override is None:
                    return
                continue
            except (StorageError, UnknownProtocol) as exc:
                self._problem("The session did not start", str(exc))
                return
            self.open_requested.emit(record.id)
            return

    # consent (issue 17) -------------------------------------------------------------------
    def _show_consent_line(self, client_id: uuid.UUID) -> None:
        """The selected client's consent line on the start screen."""
        try:
            status = self.service.consents.status(client_id, self.clock.now())
        except StorageError:
            self.window.start_view.consent_line.hide()  # nothing lost: shown when read again
            return
        self.window.start_view.show_consent_line(status.line(), warn=not status.current)

    def _on_consent(self, client_id: uuid.UUID) -> None:
        """K: the client's consents, to see, add, withdraw or take back."""
        from kapsession.services.consents import ConsentInvalid, local_day
        from kapsession.ui.pre_dose_dialogs import ConsentDialog, ConsentEntry

        consents = self.service.consents
        try:
            client = self.service.clients.get(client_id)
            history = consents.history(client_id)
            staff = self.service.staff.active()
        except StorageError as exc:
            self._problem("The client's consent cannot be read", str(exc))
            return
        now = self.clock.now()
        dialog = ConsentDialog(client, staff, local_day(now), self.window)
        dialog.show_consents(history, consents.status_of(client_id, history, now).line())

        def done(message: str) -> None:
            at = self.clock.now()
            rows = consents.history(client_id)
            dialog.saved(rows, consents.status_of(client_id, rows, at).line(), message)
            self._show_consent_line(client_id)

        def save(entry: ConsentEntry) -> None:
            try:
                consents.save(client_id, entry.consent, at=self.clock.now(), by=entry.by)
            except ConsentInvalid as exc:
                dialog.show_problems(exc.problems)
                return
            except StorageError as exc:
                dialog.show_problems([f"The consent was not saved: {exc}"])
                return
            done(f"Saved: {entry.consent.kind.label}.")

        def withdraw(record: Any, day: Any, reason: str, by: uuid.UUID | None) -> None:
            try:
                consents.withdraw(
                    record, withdrawn_on=day, reason=reason, at=self.clock.now(), by=by
                )
            except StorageError as exc:
                dialog.show_problems([str(exc)])
                return
            done(f"Withdrawal saved: the {record.consent.kind.label} no longer holds.")

        def take_back(record: Any, reason: str, by: uuid.UUID | None) -> None:
            try:
                consents.take_back(record.id, reason=reason, at=self.clock.now(), by=by)
            except StorageError as exc:
                dialog.show_problems([str(exc)])
                return
            done("Taken back as entered in error; it stays in the history.")

        dialog.save_requested.connect(save)
        dialog.withdraw_requested.connect(withdraw)
        dialog.take_back_requested.connect(take_back)
        dialog.exec()
        self.window.start_view.select_client(client_id)

    def _consent_override(
        self, missing: ConsentMissing, prescriber_id: uuid.UUID | None
    ) -> ConsentOverride | None:
        """No current consent: say so, naming the clients; the prescriber may start the
        session anyway with their PIN and a reason (None: not started)."""
        from kapsession.services.pre_dose import ConsentOverride
        from kapsession.ui.pre_dose_dialogs import PrescriberDecisionDialog

        prescribers = self.service.prescribers()
        dialog = PrescriberDecisionDialog(
            "No current consent — the session has not started",
            str(missing),
            prescribers,
            prescriber_id,
            decisions=False,
            ok_text="Start anyway (protocol deviation)",
            parent=self.window,
        )
        while dialog.exec() == QDialog.DialogCode.Accepted:
            typed = dialog.value()
            if typed is None:
                continue
            _decision, staff_id, name, pin, reason = typed
            if self.pins is None:
                dialog.show_refused("PINs cannot be checked here.")
                continue
            check = self.pins.verify(
                staff_id,
                pin,
                purpose=CONSENT_OVERRIDE_PURPOSE,
                not_done="The session did not start.",
            )
            if not check.ok:
                dialog.show_refused(check.message)
                continue
            return ConsentOverride(staff_id, name, reason)
        return None

    def _problem(self, title: str, text: str) -> None:
        problem(self.window, title, text)
