"""The bundled app points python-vlc and libVLC at its own libVLC before `import vlc`.

point_at_bundled_libvlc writes into the mapping it is given (never os.environ here), over a
"bundle" folder in tmp_path holding a stand-in libvlc.so.5 (only its existence matters).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kapsession.frozen import bundle_dir, point_at_bundled_libvlc

VARIABLES = ("PYTHON_VLC_LIB_PATH", "PYTHON_VLC_MODULE_PATH", "VLC_PLUGIN_PATH")

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the bundle's layout checked here is Linux's"
)


def fake_bundle(folder: Path, *, with_library: bool = True) -> Path:
    (folder / "vlc" / "plugins").mkdir(parents=True)
    if with_library:
        (folder / "libvlc.so.5").write_bytes(b"\x7fELF")
    return folder


def expected_for(bundle: Path) -> dict[str, str]:
    plugins = str(bundle / "vlc" / "plugins")
    return {
        "PYTHON_VLC_LIB_PATH": str(bundle / "libvlc.so.5"),
        "PYTHON_VLC_MODULE_PATH": plugins,
        "VLC_PLUGIN_PATH": plugins,
    }


@pytest.fixture
def not_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)


def test_given_a_bundle_with_libvlc_when_pointed_then_all_three_variables_name_it(
    tmp_path: Path,
) -> None:
    # Given a bundle folder holding libvlc.so.5 and an environment that names no libVLC
    bundle = fake_bundle(tmp_path / "_internal")
    environ = {"PATH": "/usr/bin"}
    # When the app points at the bundled libVLC
    pointed = point_at_bundled_libvlc(bundle, environ)
    # Then python-vlc gets the library file and the plugins folder, and libVLC the plugins
    assert pointed is True
    assert environ == {"PATH": "/usr/bin", **expected_for(bundle)}


@pytest.mark.parametrize("kept", VARIABLES)
def test_given_a_person_set_a_variable_when_pointed_then_their_value_stays(
    tmp_path: Path, kept: str
) -> None:
    # Given someone trying another libVLC has set one of the variables
    bundle = fake_bundle(tmp_path / "_internal")
    environ = {kept: "/opt/other-vlc/thing"}
    # When the app points at the bundled libVLC
    assert point_at_bundled_libvlc(bundle, environ) is True
    # Then their value is kept and the others name the bundle's
    assert environ == {**expected_for(bundle), kept: "/opt/other-vlc/thing"}


def test_given_a_bundle_without_libvlc_when_pointed_then_nothing_is_set(tmp_path: Path) -> None:
    bundle = fake_bundle(tmp_path / "_internal", with_library=False)
    environ: dict[str, str] = {}
    assert point_at_bundled_libvlc(bundle, environ) is False
    assert environ == {}


def test_given_the_app_is_not_frozen_when_pointed_then_it_returns_false_and_sets_nothing(
    not_frozen: None,
) -> None:
    # Given python runs from source (no sys.frozen): no bundle folder at all
    assert bundle_dir() is None
    environ: dict[str, str] = {}
    # When the entry point asks for the bundled libVLC
    pointed = point_at_bundled_libvlc(None, environ)
    # Then nothing changes: the system's libVLC is used as before
    assert pointed is False
    assert environ == {}


@pytest.mark.parametrize("how", ["meipass", "beside-executable"])
def test_given_a_frozen_app_when_pointed_without_a_root_then_it_finds_its_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, not_frozen: None, how: str
) -> None:
    # Given a frozen app whose libraries are in sys._MEIPASS, or beside the executable
    bundle = fake_bundle(tmp_path / "_internal")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    if how == "meipass":
        monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    else:
        monkeypatch.setattr(sys, "executable", str(bundle / "kapsession"))
    environ: dict[str, str] = {}
    # When the entry point points at the bundled libVLC
    pointed = point_at_bundled_libvlc(environ=environ)
    # Then it found the bundle folder itself
    assert bundle_dir() == bundle
    assert pointed is True
    assert environ == expected_for(bundle)
