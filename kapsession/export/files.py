"""Writing an export to disk: all of it or nothing, and never over a file without being asked."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from kapsession.export.content import ExportRefused


def check_destination(path: Path, *, force: bool) -> None:
    """Refuse before any work is done: an existing file (without force), a missing folder."""
    if path.exists() and not force:
        raise ExportRefused(
            f"{path} already exists; choose another name, or overwrite it with --force."
        )
    if path.is_dir():
        raise ExportRefused(f"{path} is a folder; give a file name to write.")
    if not path.parent.is_dir():
        raise ExportRefused(
            f"The folder {path.parent} does not exist; create it or choose another."
        )


def write_atomically(path: Path, data: bytes, *, force: bool = False) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk, then rename it into
    place: a reader (or a crash) sees the old file or the whole new one, never half."""
    check_destination(path, force=force)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if not force and path.exists():  # appeared while we wrote
            raise ExportRefused(f"{path} appeared while exporting; nothing was overwritten.")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)
