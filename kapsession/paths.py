"""Where kapsession keeps its files. The only module that asks platformdirs.

Overrides, strongest first: command-line options, then KAPSESSION_DATA_DIR /
KAPSESSION_DATABASE_URL, then the platform's user data and log folders. The training
database is a separate file, so practice never mixes with clinical data.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from kapsession import APP_NAME

DATA_DIR_ENV = "KAPSESSION_DATA_DIR"
DATABASE_URL_ENV = "KAPSESSION_DATABASE_URL"
CLINICAL_DB_NAME = "kapsession.sqlite3"
TRAINING_DB_NAME = "kapsession-training.sqlite3"


@dataclass(frozen=True)
class Paths:
    """Where the app's data, logs and database are."""

    data_dir: Path
    log_dir: Path
    database_url: str
    training: bool
    database_url_overridden: bool

    @property
    def backup_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def lock_file(self) -> Path:
        """The app's lock (one window on the same data; a restore waits for none)."""
        return self.data_dir / ("training.lock" if self.training else "app.lock")

    @property
    def log_file(self) -> Path:
        return self.log_dir / "kapsession.log"

    @property
    def drafts_dir(self) -> Path:
        return self.data_dir / "drafts"

    @property
    def note_templates_dir(self) -> Path:
        """The clinic's own session-note templates (a file here replaces a built-in one)."""
        return self.data_dir / "note-templates"

    @property
    def quick_markers_file(self) -> Path:
        """The clinic's own quick markers, used instead of the built-in ones when valid."""
        return self.data_dir / "markers.toml"


def resolve_paths(
    *,
    data_dir: str | os.PathLike[str] | None = None,
    database_url: str | None = None,
    training: bool = False,
    environ: dict[str, str] | None = None,
) -> Paths:
    """Work out the folders and database URL; creates nothing (see `ensure_writable`)."""
    env = os.environ if environ is None else environ
    chosen_dir = data_dir or env.get(DATA_DIR_ENV) or None
    if chosen_dir:
        base = Path(chosen_dir).expanduser().resolve()
        log_dir = base / "logs"
    else:
        base = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
        log_dir = Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
    url = database_url or env.get(DATABASE_URL_ENV) or None
    overridden = url is not None
    if training:
        # Training never reaches a clinic server: always a local file of its own.
        url = None
        overridden = False
    if url is None:
        name = TRAINING_DB_NAME if training else CLINICAL_DB_NAME
        url = f"sqlite:///{base / name}"
    return Paths(
        data_dir=base,
        log_dir=log_dir,
        database_url=url,
        training=training,
        database_url_overridden=overridden,
    )


class NotWritable(Exception):
    """A folder kapsession needs cannot be created or written."""


# The data folder and everything kapsession writes in it are its user's alone, whatever the
# umask: another local user must not read client names, notes or PIN hashes.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private(path: Path) -> bool:
    """Take group's and others' rights from `path` (a folder keeps its owner's, a file its
    owner's read and write); True when it had any. A missing path is left alone."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return False
    if not stat.S_IMODE(mode) & 0o077:
        return False
    wanted = PRIVATE_DIR_MODE if stat.S_ISDIR(mode) else PRIVATE_FILE_MODE
    path.chmod(stat.S_IMODE(mode) & wanted)
    return True


def make_private_dir(folder: Path) -> None:
    """Create `folder` (and its parents) if needed, the folder itself private (0700 less what
    the umask takes); one already there is made private by `tighten_data`."""
    folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)


def tighten_data(paths: Paths) -> list[Path]:
    """Make the data folder, its backups, drafts and logs and every file in them private (an
    older kapsession left them as the umask made them); the paths changed, for `doctor` and
    the log."""
    folders = [paths.data_dir, paths.backup_dir, paths.drafts_dir, paths.log_dir]
    changed = []
    for folder in dict.fromkeys(folders):
        if not folder.is_dir():
            continue
        if make_private(folder):
            changed.append(folder)
        for item in sorted(folder.iterdir()):
            if item.is_file() and not item.is_symlink() and make_private(item):
                changed.append(item)
    return changed


def ensure_writable(folder: Path) -> None:
    """Create `folder` if needed (private: `make_private_dir`) and prove a file can be
    written there (the proof removed, whether the write worked or not)."""
    probe = folder / f".write-test-{os.getpid()}"
    try:
        make_private_dir(folder)
        try:
            probe.write_bytes(b"ok")
        finally:
            probe.unlink(missing_ok=True)
    except OSError as exc:
        raise NotWritable(_not_writable(folder, exc)) from exc


def _not_writable(folder: Path, exc: OSError) -> str:
    choose = f"choose another folder with --data-dir (or {DATA_DIR_ENV})"
    choose_first = f"C{choose[1:]}"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        reason, advice = "its disk is full", f"Free some space on it, or {choose}"
    elif exc.errno == errno.EFBIG:
        reason = "a file there would pass this account's file-size limit"
        advice = f"Ask IT to lift the limit, or {choose}"
    elif exc.errno == errno.ENAMETOOLONG:
        reason, advice = "its name is too long for the disk", choose_first
    elif exc.errno in (errno.EEXIST, errno.ENOTDIR):
        reason, advice = "a file has its name, or part of it", choose_first
    else:
        reason = exc.strerror or str(exc)
        advice = f"Ask IT to fix its permissions, or {choose}"
    return f"The folder {folder} cannot be written ({reason}). {advice}."


def documents_dir() -> Path:
    """Where exports are offered by default: the user's documents folder."""
    return Path(platformdirs.user_documents_dir())
