"""Real components the tests need: skip locally when one is missing, fail under CI."""

from __future__ import annotations

import os
import shutil

import pytest


def unavailable(reason: str) -> None:
    """Skip locally, fail under CI: a missing real component must not pass CI silently."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def require_tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} is not installed: sudo apt-get install {package}")
    assert found is not None
    return found
