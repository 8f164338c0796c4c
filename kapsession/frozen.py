"""The bundled app (PyInstaller) points python-vlc at its own libVLC before anything imports vlc.

python-vlc reads PYTHON_VLC_LIB_PATH (the library file) and PYTHON_VLC_MODULE_PATH (the plugin
folder) when `vlc` is first imported; libVLC itself reads VLC_PLUGIN_PATH. Without them a bundle
would load whatever VLC the laptop has installed, or none. A person may still override each
variable, e.g. to try another libVLC.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path


def bundle_dir() -> Path | None:
    """The folder holding the bundle's libraries and data, or None when not frozen."""
    if not getattr(sys, "frozen", False):
        return None
    root = getattr(sys, "_MEIPASS", None)
    return Path(root) if root else Path(sys.executable).parent


def point_at_bundled_libvlc(
    root: Path | None = None, environ: MutableMapping[str, str] | None = None
) -> bool:
    """Set the libVLC variables to the bundle's copy; False when not frozen or none is bundled."""
    root = bundle_dir() if root is None else root
    env = os.environ if environ is None else environ
    if root is None:
        return False
    if sys.platform == "win32":
        library, plugins = root / "libvlc.dll", root / "plugins"
    elif sys.platform == "darwin":
        library, plugins = root / "libvlc.dylib", root / "plugins"
    else:
        library, plugins = root / "libvlc.so.5", root / "vlc" / "plugins"
    if not library.exists():
        return False
    env.setdefault("PYTHON_VLC_LIB_PATH", str(library))
    env.setdefault("PYTHON_VLC_MODULE_PATH", str(plugins))
    env.setdefault("VLC_PLUGIN_PATH", str(plugins))
    return True
