"""What saving an adverse event, an intervention or a controlled-substance count gave (issue 16)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from kapsession.domain.adverse_events import EntryProblem

T = TypeVar("T")


@dataclass(frozen=True)
class EntryResult(Generic[T]):
    """The record as saved; or, when nothing was saved, every field to fix (`problems`) or what
    the database refused (`message`, also said on the live screen)."""

    record: T | None = None
    problems: tuple[EntryProblem, ...] = ()
    message: str = ""

    @property
    def saved(self) -> bool:
        return self.record is not None
