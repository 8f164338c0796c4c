"""What goes into the room-laptop bundle, for build.spec: libVLC's audio plugins, the shipped
assets, and which of Qt's collected files to leave out.

Plain functions over paths and PyInstaller's (dest, source, kind) tuples, so the choices are
tested without building (tests/packaging/test_bundle_contents.py).
"""

from __future__ import annotations

import ctypes.util
import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

_Entry = TypeVar("_Entry", bound=tuple[str, ...])

# libVLC plugins that play local audio files: reading the file, the containers and codecs a
# clinic's music comes in (Ogg Vorbis/Opus, FLAC, MP3, AAC/M4A, WAV/AIFF), resampling and
# mixing, and the sound outputs (PulseAudio/PipeWire, ALSA, and the silent one for checks). No
# video, no network, no FFmpeg (libavcodec would add ~60 MB for WMA/ALAC, which clinics rarely
# use; `kapsession playlist check` names a file the bundle cannot play).
AUDIO_PLUGINS: dict[str, tuple[str, ...]] = {
    "access": ("filesystem",),
    "audio_filter": (
        "audio_format",
        "gain",
        "remap",
        "samplerate",
        "scaletempo",
        "simple_channel_mixer",
        "speex_resampler",
        "trivial_channel_mixer",
        "ugly_resampler",
    ),
    "audio_mixer": ("float_mixer", "integer_mixer"),
    "audio_output": ("adummy", "alsa", "pulse"),
    "codec": ("adpcm", "araw", "faad", "flac", "g711", "lpcm", "mpg123", "opus", "vorbis"),
    "demux": ("aiff", "es", "flacsys", "mkv", "mp4", "ogg", "wav"),
    "meta_engine": ("taglib",),
    "packetizer": (
        "packetizer_copy",
        "packetizer_flac",
        "packetizer_mpeg4audio",
        "packetizer_mpegaudio",
    ),
    "stream_filter": ("cache_block", "cache_read", "prefetch", "skiptags"),
}

# Collected files the app cannot use, matched against their path inside the bundle: Qt's QML and
# Quick, WebEngine, PDF, multimedia, virtual keyboard and 3D libraries (and PyInstaller's links to
# them beside the executable), the plugins that would load them, the platforms of embedded
# devices (EGLFS, framebuffer, VNC), the GTK theme plugin (it needs GTK, which the bundle does not
# carry; the app draws its own room theme) with the libraries only it links, and Qt's
# translations (the app speaks English only).
_UNUSED_QT_LIBS = (
    "Qml|Quick|WebEngine|Pdf|Multimedia|VirtualKeyboard|3D|Designer|ShaderTools|Positioning"
    "|Location|Sensors|SerialPort|Bluetooth|Nfc|WebSockets|WebChannel|RemoteObjects|Scxml"
    "|TextToSpeech|SpatialAudio|Graphs|DataVisualization|Help|Sql|Test|Concurrent|StateMachine"
    "|HttpServer|EglFSDeviceIntegration|EglFsKmsSupport"
)
_UNUSED = re.compile(
    rf"(?:^|/)libQt6(?:{_UNUSED_QT_LIBS})[A-Za-z]*\.so"
    r"|PySide6/Qt/(?:translations|qml)/"
    r"|PySide6/Qt/plugins/(?:multimedia|qmltooling|sqldrivers|position|geoservices|sensors"
    r"|webview|texttospeech|designer|canbus|virtualkeyboard|renderers|sceneparsers"
    r"|assetimporters|renderplugins|geometryloaders|scxmldatamodel|networkinformation|tls"
    r"|egldeviceintegrations)/"
    r"|PySide6/Qt/plugins/imageformats/libqpdf\.so"
    r"|PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin\.so"
    r"|PySide6/Qt/plugins/platforms/libq(?:eglfs|linuxfb|vnc|minimalegl|vkkhrdisplay)\.so"
    r"|PySide6/Qt/plugins/platformthemes/libqgtk3\.so"
    r"|(?:^|/)lib(?:gtk-3|gdk-3|atk-1\.0|cairo|cairo-gobject|pango-1\.0|pangocairo-1\.0"
    r"|pangoft2-1\.0|gdk_pixbuf-2\.0|pixman-1|datrie|thai|fribidi)\.so"
)


@dataclass(frozen=True)
class SystemVlc:
    libvlc: Path
    libvlccore: Path
    plugins_dir: Path
    cache_gen: Path


def find_system_vlc(environ: dict[str, str] | None = None) -> SystemVlc:
    """The libVLC the bundle copies: KAPSESSION_LIBVLC_DIR, else the one the linker finds."""
    env = os.environ if environ is None else environ
    override = env.get("KAPSESSION_LIBVLC_DIR")
    if override:
        lib_dir = Path(override)
        libvlc = lib_dir / "libvlc.so.5"
    else:
        name = ctypes.util.find_library("vlc")
        if name is None:
            raise SystemExit(
                "build.spec: libVLC is not installed, so the bundle cannot carry it. Install it "
                "with: sudo apt-get install libvlc5 libvlc-bin vlc-plugin-base"
            )
        libvlc = _library_path(name)
        lib_dir = libvlc.parent
    libvlccore = lib_dir / "libvlccore.so.9"
    vlc_dir = lib_dir / "vlc"
    cache_gen = Path(env.get("KAPSESSION_VLC_CACHE_GEN") or vlc_dir / "vlc-cache-gen")
    found = SystemVlc(libvlc.resolve(), libvlccore.resolve(), vlc_dir / "plugins", cache_gen)
    for path in (found.libvlc, found.libvlccore, found.plugins_dir, found.cache_gen):
        if not path.exists():
            raise SystemExit(
                f"build.spec: {path} is missing. Install libVLC and its plugins with: "
                "sudo apt-get install libvlc5 libvlc-bin vlc-plugin-base"
            )
    return found


def _library_path(soname: str) -> Path:
    """The file ldconfig maps a library name (libvlc.so.5) to."""
    listing = subprocess.run(
        ["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=True
    ).stdout
    for line in listing.splitlines():
        name, _, target = line.strip().partition(" => ")
        if target and name.split(" ", 1)[0] == soname and "x86-64" in name:
            return Path(target)
    raise SystemExit(f"build.spec: ldconfig does not know {soname}")


def plugin_binaries(plugins_dir: Path, dest: str) -> list[tuple[str, str]]:
    """(source, destination folder) for every plugin in AUDIO_PLUGINS; a missing one stops the
    build with its name, since the bundle would then fail to play some files."""
    chosen: list[tuple[str, str]] = []
    missing: list[str] = []
    for folder, names in AUDIO_PLUGINS.items():
        for name in names:
            source = plugins_dir / folder / f"lib{name}_plugin.so"
            if source.exists():
                chosen.append((str(source), f"{dest}/{folder}"))
            else:
                missing.append(f"{folder}/lib{name}_plugin.so")
    if missing:
        raise SystemExit(
            f"build.spec: these libVLC plugins are not in {plugins_dir}: {', '.join(missing)}. "
            "Install them with: sudo apt-get install vlc-plugin-base"
        )
    return chosen


def asset_datas(assets_dir: Path, dest: str) -> list[tuple[str, str]]:
    """(file, destination folder) for every shipped asset; tools that made them stay behind."""
    chosen: list[tuple[str, str]] = []
    for path in sorted(assets_dir.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".py":
            continue
        relative = path.parent.relative_to(assets_dir)
        folder = dest if relative == Path(".") else f"{dest}/{relative.as_posix()}"
        chosen.append((str(path), folder))
    return chosen


def without_unused(entries: Iterable[_Entry]) -> list[_Entry]:
    """PyInstaller's TOC entries (destination first) minus the files the app cannot use."""
    return [entry for entry in entries if not _UNUSED.search(entry[0].replace(os.sep, "/"))]


def generate_cache(plugins_dir: Path, vlc: SystemVlc) -> None:
    """Write plugins.dat for exactly the bundled plugins (vlc-cache-gen loads each one)."""
    stale = plugins_dir / "plugins.dat"
    stale.unlink(missing_ok=True)
    subprocess.run([str(vlc.cache_gen), str(plugins_dir)], check=True)
    if not stale.exists():
        raise SystemExit(f"build.spec: vlc-cache-gen wrote no {stale}")
