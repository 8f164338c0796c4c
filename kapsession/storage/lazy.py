"""The ORM's mapped classes, imported when first used.

A live session's window reads through the Core tables (`schema.py`) alone; SQLAlchemy's ORM and
the classes mapped with it (`models.py`) load the first time a repository names one, or when the
app warms them up once its window is ready (`load_orm`). Repositories write

    if TYPE_CHECKING:
        from kapsession.storage import models
    else:
        from kapsession.storage.lazy import models

and use `models.Dose` as they would the module's own names. The import itself is Python's,
which is safe from any thread.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

MODELS = "kapsession.storage.models"


class LazyModule:
    """A module imported on the first attribute read, then read from."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<{self._name}, imported when first used>"


models = LazyModule(MODELS)


def load_orm() -> ModuleType:
    """Import the mapped classes and configure their mappers now (about a tenth of a second),
    so that the first write or export after start-up does not wait for them."""
    module = importlib.import_module(MODELS)
    from sqlalchemy.orm import configure_mappers

    from kapsession.storage import append_only

    append_only.install()  # the ORM refuses changes to append-only rows, as the database does
    configure_mappers()
    return module
