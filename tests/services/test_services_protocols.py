"""The protocol catalog: what a new session can be started with, and what it keeps once started."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from services_support import Room

from kapsession.domain.protocol_file import parse_protocol
from kapsession.resources import protocols_dir
from kapsession.services.protocols import ProtocolCatalog, UnknownProtocol
from kapsession.services.session_service import SessionService, session_protocol

SHIPPED = {
    "sublingual-kap-3h": "sublingual-kap-3h.toml",
    "intramuscular-kap": "intramuscular-kap.toml",
    "iv-infusion": "iv-infusion.toml",
    "intranasal-esketamine": "intranasal-esketamine.toml",
    # issue 17: templates of sessions without a dose
    "consultation": "consultation.toml",
    "preparation": "preparation.toml",
    "integration": "integration.toml",
    "follow-up": "follow-up.toml",
}
SUBLINGUAL_TEXT = (protocols_dir() / "sublingual-kap-3h.toml").read_text(encoding="utf-8")


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the first line containing `fragment`, counted by hand."""
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in the text")


def copy_shipped(folder: Path) -> Path:
    shutil.copytree(protocols_dir(), folder)
    return folder


def test_the_shipped_protocols_are_all_offered_with_their_exact_text() -> None:
    choices, problems = ProtocolCatalog(protocols_dir()).scan()
    assert problems == []
    assert {c.key: c.path.name for c in choices} == SHIPPED
    assert [c.protocol.name for c in choices] == sorted(c.protocol.name for c in choices)
    for choice in choices:
        assert choice.text == choice.path.read_text(encoding="utf-8")
        assert choice.protocol.phases
        assert choice.protocol.checkins or not choice.protocol.gives_dose


@pytest.mark.parametrize(
    ("broken_text", "bad_fragment", "field", "says"),
    [
        pytest.param(
            SUBLINGUAL_TEXT.replace('route = "sublingual"', 'route = "oral"'),
            'route = "oral"',
            "dosing.route",
            '"oral" is not one of',
            id="bad-value",
        ),
        pytest.param(
            SUBLINGUAL_TEXT.replace("hold_min = 10", "hold_min = = 10"),
            "hold_min = = 10",
            None,
            "is not valid TOML",
            id="toml-syntax",
        ),
        pytest.param(
            SUBLINGUAL_TEXT.replace('begins = "dose+25"', 'begins = "dose+25"\nbegins = "dose+30"'),
            'begins = "dose+30"',
            None,
            "a key is set twice",
            id="field-set-twice",
        ),
        pytest.param(
            SUBLINGUAL_TEXT.replace("hold_min = 10", "hold_min = 10  # 10 minutes \udce9"),
            "hold_min = 10  #",
            None,
            "is not UTF-8 text; save the file as UTF-8",
            id="not-utf8",
        ),
    ],
)
def test_a_broken_file_is_reported_by_file_and_line_and_the_good_ones_are_still_offered(
    tmp_path: Path, broken_text: str, bad_fragment: str, field: str | None, says: str
) -> None:
    # Given the shipped protocols plus one broken file (with a key of its own)
    folder = copy_shipped(tmp_path / "protocols")
    text = broken_text.replace('key = "sublingual-kap-3h"', 'key = "clinic-variant"')
    (folder / "clinic-variant.toml").write_bytes(text.encode("utf-8", "surrogateescape"))
    # When the catalog is scanned
    choices, problems = ProtocolCatalog(folder).scan()
    # Then the good protocols are still offered and the broken one is named with its line
    assert {c.key for c in choices} == set(SHIPPED)
    (problem,) = problems
    assert problem.source == "clinic-variant.toml"
    assert problem.line == line_of(text, bad_fragment)
    assert problem.field == field
    assert says in problem.message
    assert str(problem).startswith(f"clinic-variant.toml, line {problem.line}")


def test_two_files_with_the_same_key_offer_one_and_report_the_other(tmp_path: Path) -> None:
    # Given a clinic copy of the sublingual protocol that kept its key
    folder = copy_shipped(tmp_path / "protocols")
    (folder / "sublingual-kap-3h-copy.toml").write_text(SUBLINGUAL_TEXT, encoding="utf-8")
    # When the catalog is scanned
    choices, problems = ProtocolCatalog(folder).scan()
    # Then the key is offered once, from one file, and the other file is named with what to do
    assert sorted(c.key for c in choices) == sorted(SHIPPED)
    offered = next(c.path.name for c in choices if c.key == "sublingual-kap-3h")
    (problem,) = problems
    assert {offered, problem.source} == {"sublingual-kap-3h.toml", "sublingual-kap-3h-copy.toml"}
    assert problem.field == "key"
    assert 'another file already uses key "sublingual-kap-3h"' in problem.message
    assert "keys must be unique" in problem.message


def test_an_unknown_key_lists_what_is_available_and_what_is_broken(tmp_path: Path) -> None:
    folder = copy_shipped(tmp_path / "protocols")
    (folder / "broken.toml").write_text("schema = 1\nkey = \n", encoding="utf-8")
    with pytest.raises(UnknownProtocol) as raised:
        ProtocolCatalog(folder).get("sublingual-2h")
    message = str(raised.value)
    assert message.startswith('No valid protocol "sublingual-2h". Available: ')
    for key in SHIPPED:
        assert key in message
    assert "broken.toml, line 2" in message


def test_a_missing_protocol_folder_offers_nothing_and_says_so(tmp_path: Path) -> None:
    choices, problems = ProtocolCatalog(tmp_path / "gone").scan()
    assert choices == []
    assert [p.message for p in problems] == ["the protocol folder is missing; reinstall"]
    with pytest.raises(UnknownProtocol, match="Available: none"):
        ProtocolCatalog(tmp_path / "gone").get("sublingual-kap-3h")


def test_a_started_session_keeps_its_protocol_when_the_file_is_edited(
    room: Room, tmp_path: Path
) -> None:
    # Given a session started from the clinic's protocol folder
    folder = copy_shipped(tmp_path / "protocols")
    service = SessionService(room.context.database, ProtocolCatalog(folder))
    client = room.client()
    started = service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[client.id],
        modality="individual",
        at=room.clock.now(),
        therapist_id=room.therapist.id,
        nurse_id=room.nurse.id,
    )
    # When the clinic edits the file afterwards (a longer onset, a new version)
    path = folder / "sublingual-kap-3h.toml"
    edited = (
        SUBLINGUAL_TEXT.replace("version = 2", "version = 3")
        .replace('ends = "dose+25"', 'ends = "dose+30"', 1)
        .replace('begins = "dose+25"', 'begins = "dose+30"', 1)
    )
    assert edited != SUBLINGUAL_TEXT
    path.write_text(edited, encoding="utf-8")
    # Then the session still follows the protocol it started with, read back from the database
    record = service.sessions.get(started.id)
    assert record.protocol_text == SUBLINGUAL_TEXT
    assert session_protocol(record) == parse_protocol(SUBLINGUAL_TEXT, "original")
    assert session_protocol(record).phase("peak").begins.minutes == 25
    assert (record.protocol_version, service.read_state(record.id).protocol.version) == (2, 2)
    # ... even once the file is gone, while a new session gets the edited one
    later = service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[client.id],
        modality="individual",
        at=room.clock.now(),
        therapist_id=room.therapist.id,
        nurse_id=room.nurse.id,
    )
    assert session_protocol(later).phase("peak").begins.minutes == 30
    path.unlink()
    assert session_protocol(service.sessions.get(started.id)).version == 2
