"""Waiting in UI tests: let the app run until a condition holds, without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

MAX_PAUSES = 2000


async def until(
    pilot: Pilot[Any], condition: Callable[[], bool], what: str = "condition", pauses: int = MAX_PAUSES
) -> None:
    """Let the app run until `condition()` holds (fails the test after `pauses` short pauses)."""
    for _ in range(pauses):
        if condition():
            return
        await pilot.pause(0.01)
    assert condition(), f"timed out waiting for {what}"
