"""What build.spec puts in the room-laptop bundle, checked without building it.

packaging/bundle_contents.py chooses libVLC's audio plugins (from the system's real libVLC),
the shipped assets, and which of the files PyInstaller collected to leave out. The tables of
bundle paths below are the destinations PyInstaller gives real files (under PySide6/Qt/ and,
for libraries, as links beside the executable).
"""

from __future__ import annotations

import ctypes.util
import itertools
import sys
from pathlib import Path

import PySide6
import pytest
from support.real_tools import unavailable

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "packaging"))

import bundle_contents  # noqa: E402  (packaging/bundle_contents.py, as build.spec imports it)
from bundle_contents import AUDIO_PLUGINS, SystemVlc  # noqa: E402

PLUGIN_DEST = "vlc/plugins"
ALL_PLUGINS = [(folder, name) for folder, names in AUDIO_PLUGINS.items() for name in names]
APT_HINT = "sudo apt-get install libvlc5 libvlc-bin vlc-plugin-base"
PYSIDE6_DIR = Path(PySide6.__file__).parent


def plugin_file(folder: str, name: str) -> str:
    return f"{folder}/lib{name}_plugin.so"


def fake_plugins(root: Path, *, leave_out: tuple[str, str] | None = None) -> Path:
    """A plugins folder with an (empty) file for every AUDIO_PLUGINS entry but `leave_out`."""
    plugins = root / "plugins"
    for folder, name in ALL_PLUGINS:
        if (folder, name) == leave_out:
            continue
        path = plugins / plugin_file(folder, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    return plugins


# --- libVLC and its plugins ----------------------------------------------------------------


@pytest.fixture(scope="module")
def system_vlc() -> SystemVlc:
    """The libVLC installed on this machine, as build.spec finds it."""
    if ctypes.util.find_library("vlc") is None:
        unavailable(f"libVLC is not installed: {APT_HINT}")
    return bundle_contents.find_system_vlc({})


def test_given_the_system_libvlc_when_found_then_its_libraries_and_tools_exist(
    system_vlc: SystemVlc,
) -> None:
    # Then the two libraries, the plugins folder and vlc-cache-gen are real files and folders
    assert system_vlc.libvlc.is_file() and system_vlc.libvlc.name.startswith("libvlc.so.5")
    assert system_vlc.libvlccore.is_file()
    assert system_vlc.libvlccore.name.startswith("libvlccore.so.9")
    assert system_vlc.plugins_dir.is_dir()
    assert system_vlc.cache_gen.is_file()


def test_given_the_system_libvlc_when_choosing_plugins_then_every_audio_plugin_is_there(
    system_vlc: SystemVlc,
) -> None:
    # When the plugins are chosen from the system's libVLC (a missing one would raise)
    chosen = bundle_contents.plugin_binaries(system_vlc.plugins_dir, PLUGIN_DEST)
    # Then each AUDIO_PLUGINS entry is an existing file, bound for vlc/plugins/<its folder>
    assert len(chosen) == len(ALL_PLUGINS)
    for (source, dest), (folder, name) in zip(chosen, ALL_PLUGINS, strict=True):
        assert Path(source) == system_vlc.plugins_dir / plugin_file(folder, name)
        assert Path(source).is_file(), source
        assert dest == f"{PLUGIN_DEST}/{folder}"


@pytest.mark.parametrize(
    "missing", ALL_PLUGINS, ids=[plugin_file(folder, name) for folder, name in ALL_PLUGINS]
)
def test_given_a_plugin_is_missing_when_choosing_plugins_then_the_build_stops_naming_it(
    tmp_path: Path, missing: tuple[str, str]
) -> None:
    # Given a plugins folder holding every audio plugin but one
    plugins = fake_plugins(tmp_path, leave_out=missing)
    # When the plugins are chosen
    with pytest.raises(SystemExit) as stopped:
        bundle_contents.plugin_binaries(plugins, PLUGIN_DEST)
    # Then the build stops naming that one plugin (and only it), where it looked, and the fix
    message = str(stopped.value)
    assert plugin_file(*missing) in message
    assert str(plugins) in message
    assert "apt-get install vlc-plugin-base" in message
    others = [plugin_file(*p) for p in ALL_PLUGINS if p != missing]
    assert not [name for name in others if f" {name}" in message or f"/{name}" in message]


def test_given_a_complete_plugins_folder_when_choosing_plugins_then_all_are_bound_by_folder(
    tmp_path: Path,
) -> None:
    plugins = fake_plugins(tmp_path)
    chosen = bundle_contents.plugin_binaries(plugins, "somewhere/plugins")
    assert sorted(chosen) == sorted(
        (str(plugins / plugin_file(folder, name)), f"somewhere/plugins/{folder}")
        for folder, name in ALL_PLUGINS
    )


def fake_libvlc_dir(root: Path, parts: set[str]) -> Path:
    """A folder laid out like /usr/lib/x86_64-linux-gnu, holding only the named `parts`."""
    root.mkdir(parents=True, exist_ok=True)
    if "libvlc" in parts:
        (root / "libvlc.so.5").write_bytes(b"")
    if "libvlccore" in parts:
        (root / "libvlccore.so.9").write_bytes(b"")
    if "plugins" in parts:
        fake_plugins(root / "vlc")
    if "cache-gen" in parts:
        (root / "vlc").mkdir(exist_ok=True)
        (root / "vlc" / "vlc-cache-gen").write_bytes(b"")
    return root


EVERY_PART = {"libvlc", "libvlccore", "plugins", "cache-gen"}


@pytest.mark.parametrize(
    ("parts", "named"),
    [
        pytest.param(set(), "libvlc.so.5", id="empty-folder"),
        pytest.param(EVERY_PART - {"libvlc"}, "libvlc.so.5", id="no-libvlc"),
        pytest.param(EVERY_PART - {"libvlccore"}, "libvlccore.so.9", id="no-libvlccore"),
        pytest.param(EVERY_PART - {"plugins"}, "vlc/plugins", id="no-plugins"),
        pytest.param(EVERY_PART - {"cache-gen"}, "vlc/vlc-cache-gen", id="no-cache-gen"),
    ],
)
def test_given_libvlc_dir_lacks_a_part_when_finding_libvlc_then_the_build_stops_with_the_fix(
    tmp_path: Path, parts: set[str], named: str
) -> None:
    # Given KAPSESSION_LIBVLC_DIR points at a folder without the named part
    folder = fake_libvlc_dir(tmp_path / "libvlc", parts)
    # When build.spec looks for libVLC there
    with pytest.raises(SystemExit) as stopped:
        bundle_contents.find_system_vlc({"KAPSESSION_LIBVLC_DIR": str(folder)})
    # Then it stops naming the missing file and saying what to install
    message = str(stopped.value)
    assert f"{folder}/{named} is missing" in message
    assert APT_HINT in message


def test_given_a_complete_libvlc_dir_when_finding_libvlc_then_it_uses_that_folder(
    tmp_path: Path,
) -> None:
    folder = fake_libvlc_dir(tmp_path / "libvlc", EVERY_PART)
    found = bundle_contents.find_system_vlc({"KAPSESSION_LIBVLC_DIR": str(folder)})
    assert found == SystemVlc(
        (folder / "libvlc.so.5").resolve(),
        (folder / "libvlccore.so.9").resolve(),
        folder / "vlc" / "plugins",
        folder / "vlc" / "vlc-cache-gen",
    )


def test_given_a_cache_gen_override_when_finding_libvlc_then_that_tool_is_used(
    tmp_path: Path,
) -> None:
    folder = fake_libvlc_dir(tmp_path / "libvlc", EVERY_PART - {"cache-gen"})
    tool = tmp_path / "my-cache-gen"
    tool.write_bytes(b"")
    found = bundle_contents.find_system_vlc(
        {"KAPSESSION_LIBVLC_DIR": str(folder), "KAPSESSION_VLC_CACHE_GEN": str(tool)}
    )
    assert found.cache_gen == tool


# --- what is left out of Qt's collected files -----------------------------------------------

QT_LIB = "PySide6/Qt/lib"
QT_PLUGINS = "PySide6/Qt/plugins"

DROPPED = [
    # Qt libraries the app never uses: in PySide6/Qt/lib and as links beside the executable
    *(
        path
        for lib in (
            "libQt6WebEngineCore.so.6",
            "libQt6WebEngineWidgets.so.6",
            "libQt6Qml.so.6",
            "libQt6QmlModels.so.6",
            "libQt6Quick.so.6",
            "libQt6QuickWidgets.so.6",
            "libQt6Pdf.so.6",
            "libQt6PdfWidgets.so.6",
            "libQt6VirtualKeyboard.so.6",
            "libQt6Multimedia.so.6",
            "libQt63DCore.so.6",
            "libQt6EglFSDeviceIntegration.so.6",
        )
        for path in (f"{QT_LIB}/{lib}", lib)
    ),
    # Qt's translations and QML
    "PySide6/Qt/translations/qtbase_de.qm",
    "PySide6/Qt/translations/qt_help_fr.qm",
    "PySide6/Qt/qml/QtQuick/Controls/qmldir",
    # plugins that would load them, or need what the bundle does not carry
    f"{QT_PLUGINS}/platformthemes/libqgtk3.so",
    f"{QT_PLUGINS}/platforms/libqeglfs.so",
    f"{QT_PLUGINS}/platforms/libqvnc.so",
    f"{QT_PLUGINS}/platforms/libqlinuxfb.so",
    f"{QT_PLUGINS}/platforms/libqminimalegl.so",
    f"{QT_PLUGINS}/platforms/libqvkkhrdisplay.so",
    f"{QT_PLUGINS}/imageformats/libqpdf.so",
    f"{QT_PLUGINS}/platforminputcontexts/libqtvirtualkeyboardplugin.so",
    f"{QT_PLUGINS}/multimedia/libffmpegmediaplugin.so",
    f"{QT_PLUGINS}/qmltooling/libqmldbg_debugger.so",
    f"{QT_PLUGINS}/sqldrivers/libqsqlite.so",
    f"{QT_PLUGINS}/egldeviceintegrations/libqeglfs-kms-integration.so",
    # the libraries only the GTK theme plugin links
    "libgtk-3.so.0",
    "libgdk-3.so.0",
    "libatk-1.0.so.0",
    "libcairo.so.2",
    "libcairo-gobject.so.2",
    "libpango-1.0.so.0",
    "libpangocairo-1.0.so.0",
    "libpangoft2-1.0.so.0",
    "libgdk_pixbuf-2.0.so.0",
    "libpixman-1.so.0",
    "libdatrie.so.1",
    "libthai.so.0",
    "libfribidi.so.0",
]

KEPT = [
    # the Qt libraries the app imports, and those they need
    *(
        path
        for lib in (
            "libQt6Core.so.6",
            "libQt6Gui.so.6",
            "libQt6Widgets.so.6",
            "libQt6Charts.so.6",
            "libQt6OpenGL.so.6",
            "libQt6OpenGLWidgets.so.6",
            "libQt6Svg.so.6",
            "libQt6DBus.so.6",
            "libQt6XcbQpa.so.6",
            "libQt6WaylandClient.so.6",
            "libQt6Network.so.6",
            "libicudata.so.73",
            "libicuuc.so.73",
            "libicui18n.so.73",
        )
        for path in (f"{QT_LIB}/{lib}", lib)
    ),
    # the platforms a room laptop (or a test) runs on, and plugins the app uses
    f"{QT_PLUGINS}/platforms/libqxcb.so",
    f"{QT_PLUGINS}/platforms/libqwayland.so",
    f"{QT_PLUGINS}/platforms/libqoffscreen.so",
    f"{QT_PLUGINS}/platforms/libqminimal.so",
    f"{QT_PLUGINS}/platformthemes/libqxdgdesktopportal.so",
    f"{QT_PLUGINS}/imageformats/libqsvg.so",
    f"{QT_PLUGINS}/iconengines/libqsvgicon.so",
    f"{QT_PLUGINS}/xcbglintegrations/libqxcb-glx-integration.so",
    # libVLC, its plugins and the sound libraries they link; the system's ICU
    "libvlc.so.5",
    "libvlccore.so.9",
    "vlc/plugins/codec/libvorbis_plugin.so",
    "vlc/plugins/audio_output/libpulse_plugin.so",
    "libpulse.so.0",
    "libpulse-simple.so.0",
    "libpulsecommon-16.1.so",
    "libicudata.so.72",
    "libicuuc.so.72",
    "libharfbuzz.so.0",
    # the app itself and its data
    "PySide6/QtCore.abi3.so",
    "PySide6/QtCharts.abi3.so",
    "assets/icons/kapsession-256.png",
    "assets/music/arrival-warm-pad.ogg",
    "kapsession/storage/migrations/env.py",
    "base_library.zip",
]


def toc(*destinations: str) -> list[tuple[str, str, str]]:
    """PyInstaller TOC entries (destination, source, kind) for `destinations`."""
    return [(dest, f"/src/{dest.rsplit('/', 1)[-1]}", "BINARY") for dest in destinations]


@pytest.mark.parametrize("dest", DROPPED)
def test_given_an_unused_file_when_filtering_then_it_is_left_out(dest: str) -> None:
    assert bundle_contents.without_unused(toc(dest)) == []


@pytest.mark.parametrize("dest", KEPT)
def test_given_a_file_the_app_needs_when_filtering_then_it_is_kept(dest: str) -> None:
    assert bundle_contents.without_unused(toc(dest)) == toc(dest)


def test_given_a_mixed_toc_when_filtering_then_the_kept_entries_keep_their_order() -> None:
    # Given PyInstaller's entries, needed and unused ones interleaved
    mixed = [
        entry
        for pair in itertools.zip_longest(toc(*KEPT), toc(*DROPPED))
        for entry in pair
        if entry is not None
    ]
    # When filtered, then exactly the needed ones are left, in their order
    assert bundle_contents.without_unused(mixed) == toc(*KEPT)


@pytest.mark.parametrize(
    "dest", [d for d in DROPPED + KEPT if d.startswith(("PySide6/Qt/lib/", "PySide6/Qt/plugins/"))]
)
def test_the_qt_paths_in_these_tables_are_real_files_of_the_installed_pyside6(dest: str) -> None:
    """So the tables follow PySide6's real layout, not a guess at it."""
    assert (PYSIDE6_DIR.parent / dest).is_file(), f"{dest} is not in {PYSIDE6_DIR}"


# --- the shipped assets --------------------------------------------------------------------


def test_given_the_repo_assets_when_listed_then_every_shipped_file_goes_in() -> None:
    # When the repository's assets are listed for the bundle
    assets = REPO / "assets"
    chosen = bundle_contents.asset_datas(assets, "assets")
    sources = {Path(source) for source, _dest in chosen}
    # Then each is bound for the folder mirroring its place under assets/
    for source, dest in chosen:
        relative = Path(source).parent.relative_to(assets).as_posix()
        assert dest == ("assets" if relative == "." else f"assets/{relative}")
    # ... every protocol, note template, the quick markers, every icon and every track is in
    expected = {
        *assets.glob("protocols/*.toml"),
        *assets.glob("note-templates/*.toml"),
        assets / "markers.toml",
        *assets.glob("icons/*.png"),
        assets / "icons" / "kapsession.svg",
        *assets.glob("music/*.ogg"),
    }
    assert len(expected) >= 4 + 4 + 1 + 4 + 1 + 9
    assert expected <= sources, sorted(str(p) for p in expected - sources)
    # ... and nothing that made them: no Python source, no bytecode
    assert all(p.suffix != ".py" and "__pycache__" not in p.parts for p in sources)
    assert (assets / "music" / "make_music.py").is_file()
    assert not any(p.name == "make_music.py" for p in sources)


def test_given_assets_with_tools_and_bytecode_when_listed_then_only_the_data_goes_in(
    tmp_path: Path,
) -> None:
    # Given an assets folder with data at the top and nested, beside tools and their bytecode
    assets = tmp_path / "assets"
    files = {
        "markers.toml": True,
        "protocols/a.toml": True,
        "music/deep/track.ogg": True,
        "music/README.md": True,
        "music/make_music.py": False,
        "music/__pycache__/make_music.cpython-311.pyc": False,
        "__pycache__/x.cpython-311.pyc": False,
    }
    for name in files:
        (assets / name).parent.mkdir(parents=True, exist_ok=True)
        (assets / name).write_text("x", encoding="utf-8")
    # When they are listed
    chosen = bundle_contents.asset_datas(assets, "kapsession/assets")
    # Then only the data goes in, each to its own folder
    assert sorted(chosen) == sorted(
        (
            str(assets / name),
            "kapsession/assets/" + name.rsplit("/", 1)[0] if "/" in name else "kapsession/assets",
        )
        for name, shipped in files.items()
        if shipped
    )
