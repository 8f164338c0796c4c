"""packaging/install-linux.sh on a fake bundle, and the menu entry it installs.

The script runs for real (bash, cp, ln, sed) into a prefix in tmp_path, with HOME there too, so
it never touches this machine's menus. The bundle is a stand-in: a shell script named
`kapsession` that prints which bundle it is, and a file in `_internal/`.
"""

from __future__ import annotations

import configparser
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from support.real_tools import require_tool

from kapsession import APP_NAME

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "packaging" / "install-linux.sh"
DESKTOP = REPO / "packaging" / "kapsession.desktop"
ICONS = REPO / "assets" / "icons"
PNG_SIZES = sorted(int(p.stem.rsplit("-", 1)[1]) for p in ICONS.glob("kapsession-*.png"))


def fake_bundle(folder: Path, tag: str) -> Path:
    """A bundle folder whose `kapsession` prints `tag` and its arguments."""
    (folder / "_internal").mkdir(parents=True)
    (folder / "_internal" / f"{tag}.txt").write_text(tag, encoding="utf-8")
    binary = folder / "kapsession"
    binary.write_text(f'#!/bin/sh\necho "bundle {tag}: $*"\n', encoding="utf-8")
    binary.chmod(0o755)
    return folder


def install(
    prefix: Path, bundle: Path, home: Path, *, script: Path = SCRIPT
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
    env.update(HOME=str(home), KAPSESSION_BUNDLE_DIR=str(bundle))
    return subprocess.run(
        ["bash", str(script), str(prefix)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class DesktopEntryParser(configparser.ConfigParser):
    """Desktop files' keys are case-sensitive (Name, GenericName …), unlike INI files'."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def read_desktop(path: Path) -> configparser.SectionProxy:
    parser = DesktopEntryParser(interpolation=None, strict=True)
    assert parser.read(path, encoding="utf-8") == [str(path)]
    return parser["Desktop Entry"]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def test_given_a_bundle_when_installed_then_it_runs_from_bin_and_the_menu(
    tmp_path: Path, home: Path
) -> None:
    # Given a built bundle and an empty prefix
    bundle = fake_bundle(tmp_path / "dist" / "kapsession", "one")
    prefix = tmp_path / "prefix"
    # When it is installed
    result = install(prefix, bundle, home)
    # Then the script succeeds and says where it went
    assert result.returncode == 0, result.stderr
    target = prefix / "lib" / "kapsession"
    assert str(target) in result.stdout
    # ... the bundle is copied whole, still executable
    assert (target / "_internal" / "one.txt").read_text(encoding="utf-8") == "one"
    assert os.access(target / "kapsession", os.X_OK)
    # ... PREFIX/bin/kapsession is a link to it that runs it
    link = prefix / "bin" / "kapsession"
    assert link.is_symlink()
    assert link.resolve() == (target / "kapsession").resolve()
    ran = subprocess.run(
        [str(link), "doctor"], capture_output=True, text=True, timeout=30, check=True
    )
    assert ran.stdout == "bundle one: doctor\n"
    # ... the menu entry starts it by its absolute path and is otherwise the shipped one
    installed = read_desktop(prefix / "share" / "applications" / "kapsession.desktop")
    assert installed["Exec"] == str(target / "kapsession")
    assert Path(installed["Exec"]).is_absolute()
    shipped = read_desktop(DESKTOP)
    assert {k: v for k, v in installed.items() if k != "Exec"} == {
        k: v for k, v in shipped.items() if k != "Exec"
    }
    # ... and the icons are in the hicolor theme, every size and the scalable one
    hicolor = prefix / "share" / "icons" / "hicolor"
    assert PNG_SIZES
    for size in PNG_SIZES:
        icon = hicolor / f"{size}x{size}" / "apps" / "kapsession.png"
        assert icon.read_bytes() == (ICONS / f"kapsession-{size}.png").read_bytes()
    scalable = hicolor / "scalable" / "apps" / "kapsession.svg"
    assert scalable.read_bytes() == (ICONS / "kapsession.svg").read_bytes()


def test_given_an_installed_bundle_when_installed_again_then_the_new_one_replaces_it(
    tmp_path: Path, home: Path
) -> None:
    # Given an installed bundle
    prefix = tmp_path / "prefix"
    first = install(prefix, fake_bundle(tmp_path / "old" / "kapsession", "one"), home)
    assert first.returncode == 0, first.stderr
    # When a newer bundle is installed over it
    second = install(prefix, fake_bundle(tmp_path / "new" / "kapsession", "two"), home)
    # Then it succeeds, the link runs the new bundle, and nothing of the old one is left
    assert second.returncode == 0, second.stderr
    target = prefix / "lib" / "kapsession"
    ran = subprocess.run(
        [str(prefix / "bin" / "kapsession")], capture_output=True, text=True, timeout=30
    )
    assert ran.stdout == "bundle two: \n"
    assert sorted(p.name for p in (target / "_internal").iterdir()) == ["two.txt"]
    assert not (prefix / "lib" / "kapsession.new").exists()
    desktop = read_desktop(prefix / "share" / "applications" / "kapsession.desktop")
    assert desktop["Exec"] == str(target / "kapsession")


@pytest.mark.parametrize("bundle_state", ["no-folder", "not-executable"])
def test_given_no_built_bundle_when_installing_then_it_says_to_make_the_bundle(
    tmp_path: Path, home: Path, bundle_state: str
) -> None:
    # Given no usable bundle where the script looks
    bundle = tmp_path / "dist" / "kapsession"
    if bundle_state == "not-executable":
        fake_bundle(bundle, "one")
        (bundle / "kapsession").chmod(0o644)
    prefix = tmp_path / "prefix"
    # When installing
    result = install(prefix, bundle, home)
    # Then it stops, naming the folder and how to build it, having installed nothing
    assert result.returncode == 1
    assert f"no bundle at {bundle}" in result.stderr
    assert "make bundle" in result.stderr
    assert not prefix.exists()


def test_given_a_checkout_without_dist_when_installing_by_default_then_it_says_make_bundle(
    tmp_path: Path, home: Path
) -> None:
    # Given a copy of the packaging folder and icons in a checkout that has no dist/ folder
    checkout = tmp_path / "checkout"
    shutil.copytree(
        REPO / "packaging", checkout / "packaging", ignore=shutil.ignore_patterns("*.py")
    )
    shutil.copytree(ICONS, checkout / "assets" / "icons")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
    env["HOME"] = str(home)
    # When the script runs with no KAPSESSION_BUNDLE_DIR and no prefix (this user's ~/.local)
    result = subprocess.run(
        ["bash", str(checkout / "packaging" / "install-linux.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Then it looks in that checkout's dist/kapsession and says to build it
    assert result.returncode == 1
    assert f"no bundle at {checkout / 'dist' / 'kapsession'}" in result.stderr
    assert "make bundle" in result.stderr
    assert not (home / ".local").exists()


# --- the menu entry ------------------------------------------------------------------------


def test_the_desktop_file_is_a_complete_application_entry() -> None:
    # When the shipped menu entry is read as the desktop does (keys case-sensitive, no %-escapes)
    entry = read_desktop(DESKTOP)
    # Then it describes an application that opens a window, by the app's name and icon
    assert entry["Type"] == "Application"
    assert entry["Name"] == APP_NAME
    assert entry["Exec"] == APP_NAME
    assert entry["Icon"] == APP_NAME
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")
    assert entry["Keywords"].endswith(";")
    # ... grouped by the window's class, so the taskbar puts the window under this entry
    assert entry["StartupWMClass"] == APP_NAME


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_desktop_files_icon_names_icons_that_ship_in_the_sizes_their_names_say() -> None:
    # Given the icon the menu entry names
    icon = read_desktop(DESKTOP)["Icon"]
    # Then there is a scalable one and square PNGs of the usual menu sizes, each its named size
    svg = ICONS / f"{icon}.svg"
    assert svg.is_file() and "<svg" in svg.read_text(encoding="utf-8")
    assert {32, 48, 128, 256} <= set(PNG_SIZES)
    for size in PNG_SIZES:
        assert png_size(ICONS / f"{icon}-{size}.png") == (size, size)


@pytest.mark.parametrize("which", ["shipped", "installed"])
def test_the_desktop_file_passes_desktop_file_validate(
    tmp_path: Path, home: Path, which: str
) -> None:
    validator = require_tool("desktop-file-validate", "desktop-file-utils")
    path = DESKTOP
    if which == "installed":
        prefix = tmp_path / "prefix"
        result = install(prefix, fake_bundle(tmp_path / "b" / "kapsession", "one"), home)
        assert result.returncode == 0, result.stderr
        path = prefix / "share" / "applications" / "kapsession.desktop"
    checked = subprocess.run([validator, str(path)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "error" not in checked.stdout.lower(), checked.stdout
