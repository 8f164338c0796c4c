"""Records kept as a chain of versions (a client's profile, a course's plan): each new version
names the one it replaces (`replaces_id`, unique), none is ever changed. One reading of the
chain for every such table: its head (the version standing now) and its order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import Column, Table, select

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession


class Version(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def replaces_id(self) -> uuid.UUID | None: ...

    @property
    def recorded_at(self) -> datetime: ...


V = TypeVar("V", bound=Version)


def chain_head(
    orm: OrmSession, table: Table, owner: Column[Any], owner_id: uuid.UUID
) -> uuid.UUID | None:
    """The id of the version standing now of `owner_id`'s chain (None: no version yet), read in
    the caller's transaction, so that a save can refuse when someone saved since it opened."""
    rows = orm.execute(select(table.c.id, table.c.replaces_id).where(owner == owner_id)).all()
    replaced = {row.replaces_id for row in rows}
    return next((row.id for row in rows if row.id not in replaced), None)


def in_chain_order(versions: Sequence[V]) -> list[V]:
    """Oldest first, each followed by the version that replaced it (by time, should the chain
    ever be broken)."""
    replacing = {version.replaces_id: version for version in versions}
    ordered: list[V] = []
    following = replacing.get(None)
    while following is not None and len(ordered) < len(versions):
        ordered.append(following)
        following = replacing.get(following.id)
    if len(ordered) != len(versions):
        return sorted(versions, key=lambda version: version.recorded_at)
    return ordered
