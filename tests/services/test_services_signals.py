"""A live session ticks four times a second for hours: its signals must not corrupt Python.

PySide6 6.12.0's `SignalInstance.emit` returns `True` without taking a reference, so every emit
drops one reference to `True`; on Python < 3.12 (True is not immortal) the interpreter aborts
with "bool_dealloc: deallocating True or False" after a few hundred ticks. pyproject.toml pins
PySide6 below 6.12 for that; this test fails if a PySide6 with the leak is installed again.
"""

from __future__ import annotations

import gc
import sys

from services_support import Room

TICKS = 400


def test_ticking_does_not_drain_the_references_to_true_and_false(room: Room) -> None:
    # Given a live session on a steady clock (no phase boundary near)
    record = room.start()
    live, signals = room.open_live(record.id)
    room.clock.advance(60)
    live.tick()
    # When it ticks a few hundred times (garbage left by earlier tests collected before each
    # count, so that only references the ticks lost, not objects freed meanwhile, are counted)
    gc.collect()
    before = sys.getrefcount(True) + sys.getrefcount(False)
    for _ in range(TICKS):
        room.clock.advance(1)  # a new second each time: ticks within one second emit nothing
        live.tick()
    gc.collect()
    after = sys.getrefcount(True) + sys.getrefcount(False)
    # Then every tick was announced and the interpreter's booleans are as they were
    assert signals.changed == TICKS + 1
    assert before - after < TICKS // 4, f"{before - after} references to True/False lost"
