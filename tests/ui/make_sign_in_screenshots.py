"""Screenshots of sign-in, the lock and switching person (issue 18), for a look by eye (not a
test): the first run's administrator, the sign-in list (a first sign-in with its setup code),
the lock screen during a live session with music playing (silent players over silent tracks),
and the switch-person prompt, at the room laptop's size, to /tmp/signin18-shots (or the folder
given):

    QT_QPA_PLATFORM=offscreen PYTHONPATH=.:tests .venv/bin/python \\
        tests/ui/make_sign_in_screenshots.py [/tmp/signin18-shots]
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from support.audio_files import silent_wav
from support.team import usual_consent

from kapsession.audio.backend import AudioBackend
from kapsession.audio.null_player import NullPlayer
from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.context import open_context
from kapsession.ui.app_controller import AppController
from kapsession.ui.main_window import MainWindow
from kapsession.ui.theme import apply_room_theme

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
SIZE = (1366, 768)
PASSPHRASE = "harbour lantern meadow"
PIN = "518204"


def save(widget: QWidget, folder: Path, name: str) -> None:
    QApplication.processEvents()
    path = folder / f"{name}.png"
    widget.grab().save(str(path))
    print(path)


def playlists(folder: Path) -> Path:
    lines = ["#EXTM3U"]
    for name in ("one", "two"):
        silent_wav(folder / "music" / f"{name}.wav", 600)
        lines += [f"#EXTINF:-1,Track {name}", f"music/{name}.wav"]
    for phase in ("arrival", "intention", "onset", "peak"):
        (folder / f"{phase}.m3u8").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    apply_room_theme(app)
    with tempfile.TemporaryDirectory() as tmp:
        clock = FakeClock(START)
        context = open_context(resolve_paths(data_dir=Path(tmp) / "data", environ={}), clock=clock)
        window = MainWindow(training=False)
        controller = AppController(
            window,
            context,
            training=False,
            audio_backend=AudioBackend(
                factory=lambda: NullPlayer(monotonic_s=lambda: 0.0), available=True
            ),
            playlists=playlists(Path(tmp) / "playlists"),
        )
        window.setWindowState(Qt.WindowState.WindowNoState)
        window.resize(*SIZE)
        window.show()
        access = controller.access
        # 1. the first run: the administrator
        access.screen.admin_name.setText("Lena Hart")
        save(window, out, "1-first-run-administrator")
        access.create_administrator("Lena Hart", PASSPHRASE, PASSPHRASE)
        access.first_sign_in(access.access.staff.administrators()[0].id, PASSPHRASE, PIN, PIN)
        # staff made by the administrator; the nurse has set her PIN, the therapist not yet
        nurse = access.access.add_staff(PASSPHRASE, "Ruth Okafor", "nurse", credentials="RN")
        access.access.first_sign_in(nurse.staff.id, nurse.setup_code, "640213", "640213")
        therapist = access.access.add_staff(PASSPHRASE, "Sam Lee", "therapist", credentials="PsyD")
        access.access.add_staff(PASSPHRASE, "Jun Park", "prescriber", credentials="MD")
        # 1b. the administrator's staff accounts (after the passphrase), a setup code shown
        from kapsession.ui.staff_accounts_dialog import AccountRow, StaffAccountsDialog

        rows = [
            AccountRow(m.id, m.display_name, m.role, standing, m.admin)
            for m, standing in (
                (access.access.staff.administrators()[0], "PIN set"),
                (nurse.staff, "PIN set"),
                (therapist.staff, "waiting for the first sign-in"),
            )
        ]
        dialog = StaffAccountsDialog(rows, window)
        dialog.show_code(therapist.staff.signature_name, therapist.setup_code)
        dialog.show()
        save(dialog, out, "1b-staff-accounts-setup-code")
        dialog.close()
        # 2. the sign-in list, the therapist's first sign-in (setup code, own PIN)
        access.lock()
        access.screen.show_sign_in(access._accounts())
        access.screen.choose(therapist.staff.id)
        save(window, out, "2-sign-in-first-time-with-setup-code")
        access.screen.back_requested.emit()
        access.unlock(PIN)
        # 3. a live session, music playing, a check-in due; then the lock
        service = context.service
        client = service.add_client("Maya", "Fischer", at=clock.now())
        usual_consent(service, [client.id], clock.now())
        controller.start.start_session(
            protocol_key="sublingual-kap-3h",
            client_ids=(client.id,),
            modality="individual",
            therapist_id=therapist.staff.id,
            nurse_id=nurse.staff.id,
        )
        assert controller.live is not None and controller.music is not None
        controller.music.toggle()
        clock.advance(12 * 60)
        controller.live.tick()
        save(window, out, "3-live-before-the-lock")
        access.lock()
        clock.advance(3)
        controller.live.tick()
        save(window, out, "4-lock-screen-live-session-music-playing")
        # 4. the switch-person prompt from the lock screen
        access.screen.switch_requested.emit()
        access.screen.choose(nurse.staff.id)
        save(window, out, "5-switch-person-prompt")
        access.sign_in(nurse.staff.id, "640213")
        save(window, out, "6-after-the-switch-nurse-at-the-keyboard")
        controller.shutdown()
        window.close()
        context.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/signin18-shots"))
