"""Writing an export to disk: all of it or nothing, and never over a file without being asked.

Only a regular file is ever replaced (with --force), or a link to one (the link is replaced,
its target left as it was): never a folder, a device such as /dev/null, a pipe or a socket,
nor a link to one of those. A name the disk cannot hold, a folder that cannot be written and
a full disk are refused with what to do, the temporary file removed.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from kapsession.domain.clinic_file import REGULAR_FILE, file_kind
from kapsession.export.content import ExportRefused

FILE = REGULAR_FILE


def check_destination(path: Path, *, force: bool) -> None:
    """Refuse before any work is done: anything but a regular file in the way, an existing
    file (without force), a missing folder or one that cannot be written, a name too long."""
    existing = what_is_at(path)
    if existing is not None and existing != FILE:
        raise ExportRefused(
            f"{path} is {existing}, not a file an export may replace; give the name of a "
            "file to write."
        )
    if existing == FILE and not force:
        raise ExportRefused(
            f"{path} already exists; choose another name, or overwrite it with --force."
        )
    if not os.path.isdir(path.parent):
        raise ExportRefused(
            f"The folder {path.parent} does not exist; create it or choose another."
        )
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise ExportRefused(
            f"The folder {path.parent} cannot be written; choose another folder (your "
            "Documents folder, or a USB stick)."
        )


def write_atomically(path: Path, data: bytes, *, force: bool = False) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk, then rename it into
    place: a reader (or a crash) sees the old file or the whole new one, never half."""
    check_destination(path, force=force)
    try:
        # the name cut short: a long file name must not make the temporary one too long
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name[:100]}.", suffix=".part", dir=path.parent
        )
    except OSError as exc:
        raise ExportRefused(_cannot_write(path, exc)) from exc
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        existing = what_is_at(path)
        if existing is not None and not (force and existing == FILE):  # appeared meanwhile
            raise ExportRefused(f"{path} appeared while exporting; nothing was overwritten.")
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise ExportRefused(_cannot_write(path, exc)) from exc
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


def what_is_at(path: Path) -> str | None:
    """None when nothing is at `path`; FILE for a regular file or a link to one; else what is
    there ("a folder", "a device", "a link to a pipe (FIFO)" ...)."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:  # a name too long, a file where a folder should be
        raise ExportRefused(_cannot_write(path, exc)) from exc
    if not stat.S_ISLNK(mode):
        return file_kind(mode)
    try:
        target = path.stat().st_mode
    except OSError:
        return "a link to nothing"
    kind = file_kind(target)
    return kind if kind == FILE else f"a link to {kind}"


def _cannot_write(path: Path, exc: OSError) -> str:
    """What to do when writing `path` failed with `exc`; nothing was written."""
    folder = path.parent
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"The disk of the folder {folder} is full; nothing was written. Free some space, "
            "or choose another folder."
        )
    if exc.errno == errno.EFBIG:
        return (
            f"{path} would be larger than this disk or this account may write (its file-size "
            "limit); nothing was written. Choose another folder, or ask IT to lift the limit."
        )
    if exc.errno == errno.ENAMETOOLONG:
        return (
            f"The file name is too long for the disk ({len(path.name)} characters); choose "
            "a shorter name."
        )
    if exc.errno == errno.EROFS:
        return f"The folder {folder} is on a read-only disk; choose another folder."
    if exc.errno == errno.ENOTDIR:
        return f"{folder} is not a folder (a file has its name, or part of it); choose another."
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"The folder {folder} cannot be written (permission denied); choose another folder."
    return f"{path} cannot be written ({exc.strerror or exc}); choose another folder."
