"""Quick markers on the note pad: the clinic's file when valid, else the built-in; never raises."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kapsession.domain.quick_markers import DEFAULT_QUICK_MARKERS, QuickMarker
from kapsession.paths import resolve_paths
from kapsession.resources import assets_dir
from kapsession.services.quick_markers import MARKERS_FILE_NAME, load_quick_markers

BUILTIN = assets_dir() / MARKERS_FILE_NAME
CLINIC_TEXT = '[[marker]]\nkey = "1"\nlabel = "Blanket"\n\n[[marker]]\nkey = "2"\nlabel = "Water"\n'
UNREADABLE = Path("/proc/self/mem")  # reading from offset 0 fails with EIO, even for root


def test_without_a_clinic_file_the_built_in_markers_are_used(tmp_path: Path) -> None:
    markers, problem = load_quick_markers(BUILTIN, tmp_path / MARKERS_FILE_NAME)
    assert (markers, problem) == (DEFAULT_QUICK_MARKERS, None)


def test_a_valid_clinic_file_replaces_the_built_in_markers(tmp_path: Path) -> None:
    # Given the clinic's markers.toml in the data folder, where the app looks for it
    clinic_file = resolve_paths(data_dir=tmp_path, environ={}).quick_markers_file
    assert clinic_file == tmp_path.resolve() / MARKERS_FILE_NAME
    clinic_file.write_text(CLINIC_TEXT, encoding="utf-8")
    # When the markers are loaded / Then they are the clinic's, with nothing to report
    markers, problem = load_quick_markers(BUILTIN, clinic_file)
    assert markers == (QuickMarker("1", "Blanket"), QuickMarker("2", "Water"))
    assert problem is None


@pytest.mark.parametrize(
    ("content", "says"),
    [
        pytest.param(
            CLINIC_TEXT.replace('key = "2"', 'key = "1"').encode(),
            'markers.toml, line 6, marker[1].key: "1" is already the key of "Blanket"',
            id="duplicate-key",
        ),
        pytest.param(
            CLINIC_TEXT.replace("Water", "Eau fraîche").encode("latin-1"),
            "markers.toml, line 7: is not UTF-8 text",
            id="not-utf8",
        ),
        pytest.param(b"[[marker]\n", "markers.toml, line 1: is not valid TOML", id="toml-syntax"),
        pytest.param(None, "markers.toml: cannot be read", id="unreadable"),
    ],
)
def test_a_broken_clinic_file_shows_the_built_in_markers_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes | None, says: str
) -> None:
    # Given a clinic markers file that cannot be used
    clinic_file = tmp_path / MARKERS_FILE_NAME
    if content is None:
        if not UNREADABLE.is_file():
            pytest.skip("needs Linux /proc")
        clinic_file.symlink_to(UNREADABLE)
    else:
        clinic_file.write_bytes(content)
    # When the markers are loaded
    with caplog.at_level(logging.WARNING, logger="kapsession.services.quick_markers"):
        markers, problem = load_quick_markers(BUILTIN, clinic_file)
    # Then the built-in markers are used, and the problem names the file and says what happens
    assert markers == DEFAULT_QUICK_MARKERS
    assert problem is not None
    assert problem.startswith(says)
    assert f"standard markers are shown until {clinic_file} is fixed" in problem
    assert problem in caplog.text


def test_a_damaged_built_in_file_falls_back_to_the_defaults_in_code(tmp_path: Path) -> None:
    # Given no clinic file and a built-in file that was damaged on disk
    builtin = tmp_path / "builtin.toml"
    builtin.write_text("[[marker]]\nkey = 1\n", encoding="utf-8")
    # When the markers are loaded / Then the note pad still has its buttons, and says to reinstall
    markers, problem = load_quick_markers(builtin, tmp_path / MARKERS_FILE_NAME)
    assert markers == DEFAULT_QUICK_MARKERS
    assert problem is not None
    assert problem.startswith("builtin.toml, line 2, marker[0].key:")
    assert "reinstall kapsession" in problem
