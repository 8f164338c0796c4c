"""The README's table of keys is the live screen's own: written from kapsession/ui/keymap.py,
the table the screen binds its keys from."""

from __future__ import annotations

import re
from pathlib import Path

import kapsession
from kapsession.ui import keymap

README = Path(kapsession.__file__).resolve().parents[1] / "README.md"
TABLE = re.compile(r"<!-- keys:[^\n]*-->\n(.*?)<!-- /keys -->", re.DOTALL)


def test_the_readme_lists_every_key_as_the_screen_binds_it() -> None:
    # Given the README's table of keys, between its markers
    found = TABLE.search(README.read_text(encoding="utf-8"))
    assert found is not None, "README.md has no table of keys between its markers"
    # Then it is the table written from the keymap (python -m kapsession.ui.keymap)
    assert found.group(1) == keymap.readme_table()


def test_the_table_names_every_key_once() -> None:
    # Given the table written from the keymap, then each key has one row
    rows = keymap.readme_table().splitlines()[2:]
    keys = [row.split(" | ")[0].removeprefix("| ") for row in rows]
    assert len(keys) == len(set(keys))
    assert {k.sequence for k in keymap.KEYS} <= set(keys)
