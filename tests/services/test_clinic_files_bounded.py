"""Every clinic file read is bounded: only a regular file, at most 1 MB, nested a few levels.

Real files on disk: a pipe (FIFO) nobody writes to, a link to /dev/zero, a folder, a 5 GB
sparse file, a file just over the limit, and files nested 3,000 deep three ways (lists, inline
tables, dotted keys). Each reader refuses them with its own error naming the file; the
services then use their defaults and nothing from the file.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from support.hang_guard import read_guarded

from kapsession.domain.clinic_file import (
    MAX_CLINIC_FILE_BYTES,
    MAX_NESTING,
    ClinicFileError,
    load_toml,
)
from kapsession.domain.note_templates import NoteTemplateError, read_note_template
from kapsession.domain.protocol_file import ProtocolError, load_protocol
from kapsession.domain.quick_markers import (
    DEFAULT_QUICK_MARKERS,
    QuickMarkerError,
    read_quick_markers,
)
from kapsession.paths import resolve_paths
from kapsession.resources import assets_dir, protocols_dir
from kapsession.services.doctor import Status, run_checks
from kapsession.services.protocols import ProtocolCatalog
from kapsession.services.quick_markers import MARKERS_FILE_NAME, load_quick_markers
from kapsession.services.room_settings import (
    ROOM_FILE,
    RoomSettings,
    RoomSettingsError,
    load_room_settings,
    read_room_settings,
)

DEEP = 3_000

READERS: dict[str, tuple[Callable[[Path], object], type[Exception]]] = {
    "protocol": (load_protocol, ProtocolError),
    "note template": (read_note_template, NoteTemplateError),
    "quick markers": (read_quick_markers, QuickMarkerError),
    "room settings": (read_room_settings, RoomSettingsError),
}


def a_pipe(path: Path) -> None:
    os.mkfifo(path)


def a_link_to_dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def a_folder(path: Path) -> None:
    path.mkdir()


def five_gb_sparse(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(5_000_000_000)


def just_over_the_limit(path: Path) -> None:
    line = "# " + "x" * 97 + "\n"  # 100 bytes of comment: valid TOML, only too much of it
    path.write_text(line * (MAX_CLINIC_FILE_BYTES // len(line)) + "#\n", encoding="utf-8")


def lists_3000_deep(path: Path) -> None:
    path.write_text("a = " + "[" * DEEP + "]" * DEEP + "\n", encoding="utf-8")


def inline_tables_3000_deep(path: Path) -> None:
    path.write_text("a = " + "{ b = " * DEEP + "1" + " }" * DEEP + "\n", encoding="utf-8")


def dotted_keys_3000_deep(path: Path) -> None:
    path.write_text(".".join(["a"] * DEEP) + " = 1\n", encoding="utf-8")


BAD_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "pipe": (a_pipe, "is a pipe (FIFO), not a file; replace it with a file"),
    "link-to-dev-zero": (a_link_to_dev_zero, "is a device, not a file"),
    "folder": (a_folder, "is a folder, not a file"),
    "5-gb-sparse": (five_gb_sparse, "is 5.0 GB, larger than this kind of file can be"),
    "just-over-1-mb": (
        just_over_the_limit,
        "is 1,000,002 bytes, larger than this kind of file can be (at most 1,000,000 bytes)",
    ),
    "lists-3000-deep": (lists_3000_deep, "nested far too deeply"),
    "inline-tables-3000-deep": (inline_tables_3000_deep, "nested far too deeply"),
    "dotted-keys-3000-deep": (dotted_keys_3000_deep, "nested far too deeply"),
}


@pytest.mark.parametrize("bad", list(BAD_FILES))
@pytest.mark.parametrize("reader", list(READERS))
def test_a_file_that_is_not_a_small_regular_file_is_refused_naming_it(
    tmp_path: Path, reader: str, bad: str
) -> None:
    # Given, where a clinic file is read, something that is not a small, shallow file
    read, error = READERS[reader]
    make, says = BAD_FILES[bad]
    path = tmp_path / "clinic.toml"
    make(path)
    # When it is read
    raised = read_guarded(read, path)
    # Then the reader's own error names the file and says what is wrong with it
    assert isinstance(raised, error), raised
    assert str(raised).startswith("clinic.toml"), str(raised)
    assert says in str(raised)


@pytest.mark.parametrize(
    ("levels", "refused"), [(MAX_NESTING - 1, False), (MAX_NESTING, True)], ids=["9", "10"]
)
def test_nesting_is_refused_only_past_the_limit(levels: int, refused: bool) -> None:
    # Given a value in lists `levels` deep (the document itself is one more level)
    text = "a = " + "[" * levels + "1" + "]" * levels + "\n"
    # When it is parsed as a clinic file
    try:
        load_toml(text, "deep.toml", ClinicFileError, hints={}, what="protocol")
        said = None
    except ClinicFileError as exc:
        said = exc.message
    # Then it is refused only when the document is nested deeper than MAX_NESTING
    if refused:
        assert said is not None and "nested far too deeply" in said
        assert f"at most {MAX_NESTING}" in said
    else:
        assert said is None


def test_a_room_file_nested_3000_deep_leaves_the_defaults_and_doctor_says_so(
    tmp_path: Path,
) -> None:
    # Given a room.toml with a room name, then a key nested 3,000 deep
    (tmp_path / ROOM_FILE).write_text(
        '[room]\nname = "Room 9"\n' + ".".join(["x"] * DEEP) + " = 1\n", encoding="utf-8"
    )
    # When the app reads its settings / Then the defaults apply: not even the name is taken
    assert load_room_settings(tmp_path) == RoomSettings()
    # And doctor warns, naming the file and the problem
    check = next(
        c
        for c in run_checks(resolve_paths(data_dir=tmp_path, environ={}))
        if c.name == "room settings"
    )
    assert check.status is Status.WARN
    assert check.detail.startswith("room.toml: ") and "nested far too deeply" in check.detail


def test_markers_linked_to_dev_zero_give_the_built_in_markers_and_say_why(
    tmp_path: Path,
) -> None:
    # Given the clinic's markers.toml is a link to /dev/zero
    clinic_file = tmp_path / MARKERS_FILE_NAME
    clinic_file.symlink_to("/dev/zero")
    # When the note pad's markers are loaded
    markers, problem = load_quick_markers(assets_dir() / MARKERS_FILE_NAME, clinic_file)
    # Then they are the built-in ones, and the problem names the file and what it is
    assert markers == DEFAULT_QUICK_MARKERS
    assert problem is not None
    assert "markers.toml: is a device, not a file" in problem and str(clinic_file) in problem


def test_a_huge_protocol_file_is_reported_and_the_others_still_offered(tmp_path: Path) -> None:
    # Given a protocol folder with one valid protocol and a 5 GB sparse one
    valid = sorted(protocols_dir().glob("*.toml"))[0]
    shutil.copy(valid, tmp_path / valid.name)
    five_gb_sparse(tmp_path / "huge.toml")
    # When the catalogue is scanned
    choices, problems = ProtocolCatalog(tmp_path).scan()
    # Then the valid protocol is offered and the huge file is reported, not read
    assert [c.path.name for c in choices] == [valid.name]
    assert [str(p) for p in problems] == [
        "huge.toml: is 5.0 GB, larger than this kind of file can be (at most 1.0 MB); is it "
        "the right file?"
    ]


def test_text_larger_than_a_clinic_file_is_refused_wherever_it_comes_from() -> None:
    # Given the text of a clinic file larger than one can be, not read from a file
    text = "# padding\n" * (MAX_CLINIC_FILE_BYTES // 10) + "a = 1\n"
    # When it is parsed / Then it is refused, naming its source
    with pytest.raises(ClinicFileError) as refused:
        load_toml(text, "stored.toml", ClinicFileError, hints={}, what="protocol")
    assert str(refused.value) == (
        "stored.toml: is 1,000,006 bytes, larger than this kind of file can be (at most "
        "1,000,000 bytes); is it the right file?"
    )
