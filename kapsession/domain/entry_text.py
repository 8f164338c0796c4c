"""What any text staff enter may hold: one rule for notes, comments, markers, reasons and names.

Refused, with where it is and what to do:
- NUL (U+0000): PostgreSQL cannot store it, and tools reading SQLite's text stop at it.
- A lone surrogate (U+D800–U+DFFF, half of a character, from a broken paste): it has no UTF-8
  form, so it cannot be stored at all.
- Any other control character but tab, line feed and carriage return (C0, DEL, C1: U+0001–U+001F,
  U+007F–U+009F). Refused rather than stripped: the record keeps exactly what was entered, and
  a silent edit of a clinical entry is worse than asking to retype it; these characters mean
  nothing in a note but act in what reads it (escape sequences in a terminal printing
  `kapsession history`, text XML and HTML may not hold).

A note entry is also limited in length (`NOTE_MAX_CHARS`).
"""

from __future__ import annotations

import re

# About 40 printed pages: far above any note typed in a session, low enough that every export
# (the PDF included) stays quick.
NOTE_MAX_CHARS = 100_000

# The ones a paste brings most often (Word's line break within a paragraph is a vertical tab).
_CONTROL_NAMES = {
    "\x08": "backspace",
    "\x0b": "vertical tab",
    "\x0c": "page break",
    "\x1b": "escape",
    "\x7f": "delete",
}

_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _what(character: str) -> str:
    code = ord(character)
    if code == 0:
        return "a NUL character (U+0000)"
    if 0xD800 <= code <= 0xDFFF:
        return f"half of a broken character (U+{code:04X})"
    name = _CONTROL_NAMES.get(character)
    named = f", {name}" if name else ""
    return f"an invisible control character (U+{code:04X}{named})"


def text_problem(text: str, what: str = "text") -> str | None:
    """What is wrong with `text` (the `what`: "note", "first name"…) and what to do, or None."""
    found = _REFUSED.search(text)
    if found is None:
        return None
    where = found.start() + 1
    return (
        f"The {what} holds {_what(found.group())} at character {where}, which cannot be "
        "stored. Delete it (retype that part rather than pasting it) and save again; nothing "
        "was saved."
    )


def note_length_problem(text: str) -> str | None:
    """A note entry longer than `NOTE_MAX_CHARS`: how long it is and what to do; or None."""
    if len(text) <= NOTE_MAX_CHARS:
        return None
    return (
        f"The note is {len(text):,} characters long; one note can hold at most "
        f"{NOTE_MAX_CHARS:,} (about 40 pages). Split it into shorter notes; nothing was saved."
    )
