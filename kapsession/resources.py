"""Where the shipped assets are: beside the package in a checkout, inside the bundle when frozen."""

from __future__ import annotations

import sys
from pathlib import Path


def project_root() -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root)
    return Path(__file__).resolve().parent.parent


def assets_dir() -> Path:
    return project_root() / "assets"


def icons_dir() -> Path:
    return assets_dir() / "icons"


def protocols_dir() -> Path:
    return assets_dir() / "protocols"


def note_templates_dir() -> Path:
    """The built-in session-note templates; a clinic's own live in its data folder."""
    return assets_dir() / "note-templates"


def playlists_dir() -> Path:
    return project_root() / "playlists"
