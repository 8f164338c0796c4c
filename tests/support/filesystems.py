"""Folders that refuse writes for real: a read-only folder and a tiny, fillable filesystem.

Root ignores permission bits, so as root a read-only folder is a tmpfs mounted read-only; the
full disk is always a small tmpfs (both need permission to mount: skipped otherwise, as in
tests/storage/test_storage_failures.py).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount_tmpfs(mount_point: Path, options: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a tmpfs of the test's own needs root to mount")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "kapsession-test", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()})")


def _unmount(mount_point: Path) -> None:
    subprocess.run(["umount", "--lazy", str(mount_point)], check=False)


@contextmanager
def small_filesystem(folder: Path, size: str = "1m") -> Iterator[Path]:
    """`folder` (made if missing) is a tmpfs of `size` of its own, unmounted afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    _mount_tmpfs(folder, f"size={size},mode=0755")
    try:
        yield folder
    finally:
        _unmount(folder)


def fill(path: Path) -> None:
    """Write zeros to `path` until its filesystem refuses with ENOSPC."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, bytes(4096))
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


@contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """`folder` (made if missing) exists, and no file can be made in it, whoever runs."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    _mount_tmpfs(folder, "size=1m,mode=0755,ro")
    try:
        yield folder
    finally:
        _unmount(folder)


@contextmanager
def full_folder(folder: Path, size: str = "1m") -> Iterator[Path]:
    """`folder` is a small filesystem of its own, already full."""
    with small_filesystem(folder, size):
        fill(folder / ".filler")
        yield folder
