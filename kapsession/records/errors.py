"""Storage failures, each with a message a nurse can act on."""

from __future__ import annotations


class StorageError(Exception):
    """Base for storage problems. `str()` is the message shown to staff."""


class DatabaseUnreadable(StorageError):
    """The file exists but cannot be opened as a kapsession database."""


class DatabaseTooNew(StorageError):
    """The database was written by a newer kapsession; it is left untouched."""


class DatabaseLocked(StorageError):
    """Another program holds a write lock on the database."""


class DiskFull(StorageError):
    """The disk is full; the entry was not saved."""


class DataDirNotWritable(StorageError):
    """The data folder cannot be written."""


class AppendOnlyViolation(StorageError):
    """An attempt to change or delete a clinical entry; corrections are new entries."""


class NotFound(StorageError):
    """A session, client or staff member that does not exist."""


class RecordLocked(StorageError):
    """The session is signed: only addenda may be added."""


class EntryTimeInvalid(StorageError):
    """The time an entry describes is impossible: in the future, or before the session began."""


class AlreadyDone(StorageError):
    """The thing was already done once (an alert acknowledged, a participant discharged)."""


class NotAllowed(StorageError):
    """The staff member's role, or their place on the session's team, does not allow this (the
    clinic's role rules: signing a part, joining a team)."""


class TextRefused(StorageError):
    """A text holds a character that cannot be stored (NUL, half of a broken character, a
    control character: `domain.entry_text`), or a note is too long; nothing was saved."""
