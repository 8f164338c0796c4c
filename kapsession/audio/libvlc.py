"""Loading libVLC through python-vlc, with an error a person can act on when it is missing.

`import vlc` succeeds on Linux even without libVLC: python-vlc only fails at the first call
(`NameError: no function 'libvlc_new'`), or with OSError when the library is broken. So
libVLC counts as working only once `vlc.Instance()` has returned a real instance.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

INSTALL_HINT_LINUX = "sudo apt-get install libvlc5 libvlc-bin vlc-plugin-base"

BASE_OPTIONS: tuple[str, ...] = (
    "--no-video",
    "--quiet",
    "--intf=dummy",
    "--no-metadata-network-access",
    "--no-sub-autodetect-file",
)


class AudioUnavailable(RuntimeError):
    """libVLC is missing or broken; the message says what to install."""


def install_hint() -> str:
    """The command (or instruction) that installs libVLC on this operating system."""
    if sys.platform.startswith("linux"):
        return INSTALL_HINT_LINUX
    if sys.platform == "darwin":
        return "install VLC from videolan.org into /Applications"
    return "install VLC (64-bit) from videolan.org"


def load_libvlc(options: Sequence[str] = ()) -> Any:
    """A working `vlc.Instance` with BASE_OPTIONS plus `options`, or AudioUnavailable.

    Returns Any because python-vlc has no type information.
    """
    try:
        import vlc
    except (ImportError, OSError) as exc:
        raise AudioUnavailable(
            f"Music cannot play: the python-vlc package is missing or broken ({exc}). "
            "Reinstall kapsession."
        ) from exc
    try:
        instance = vlc.Instance([*BASE_OPTIONS, *options])
    except (NameError, OSError, AttributeError) as exc:
        raise AudioUnavailable(
            f"Music cannot play: libVLC is not installed or does not load ({exc}). "
            f"Install it with: {install_hint()}"
        ) from exc
    if instance is None:
        raise AudioUnavailable(
            "Music cannot play: libVLC is installed but refused to start "
            f"(options {' '.join(options) or 'none'}). Reinstall it with: {install_hint()}"
        )
    return instance


def loaded_library_path(vlc_module: Any) -> str | None:
    """The libVLC file python-vlc loaded: a full path from the process's memory map on Linux,
    else the name python-vlc opened."""
    name = getattr(getattr(vlc_module, "dll", None), "_name", None)
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.rstrip("\n").split(" ", 5)[-1].strip()
                if "/libvlc.so" in path or path.endswith("/libvlc.dylib"):
                    return path
    except OSError:
        pass
    return str(name) if name else None
