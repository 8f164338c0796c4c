"""What the start screen does without at first (`AppController.after_start`): the protocol files
are checked once the window is up, their problems then shown in the status bar."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support.signing_in import sign_in
from ui_harness import START, data_dir_context, room_theme

from kapsession.domain.clock import FakeClock
from kapsession.resources import protocols_dir
from kapsession.services.context import AppContext
from kapsession.services.protocols import ProtocolCatalog
from kapsession.ui.app_controller import AppController
from kapsession.ui.main_window import MainWindow


@pytest.fixture
def context(tmp_path: Path) -> Iterator[AppContext]:
    opened = data_dir_context(tmp_path / "data", FakeClock(START))
    yield opened
    opened.close()


def test_broken_protocol_files_are_reported_once_the_start_screen_is_up_not_while_it_is_built(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, context: AppContext
) -> None:
    # Given the clinic's protocol folder with one good file and one that is not valid TOML
    folder = tmp_path / "protocols"
    folder.mkdir()
    shutil.copy(protocols_dir() / "sublingual-kap-3h.toml", folder)
    (folder / "broken.toml").write_text("[session\nname = 'no closing bracket'\n", "utf-8")
    context.service.catalog = ProtocolCatalog(folder)
    room_theme(qapp)
    window = MainWindow(training=False)
    qtbot.addWidget(window)
    # When the controller is built (the start screen's lists filled) ...
    controller = AppController(window, context, training=False)
    sign_in(controller)
    assert window.start_view.client_list.count() == 0  # an empty database, read
    # Then nothing has been said about the protocol files yet
    assert window.statusBar().currentMessage() == ""
    # When the start is over
    controller.after_start()
    # Then the status bar names the broken file; the good one is still offered
    message = window.statusBar().currentMessage()
    assert message.startswith("1 protocol file(s) have errors and are not offered: broken.toml")
    choices, _problems = context.service.catalog.scan()
    assert [choice.protocol.key for choice in choices] == ["sublingual-kap-3h"]
