"""Waiting in UI tests: let the app run until a condition holds, without sleeping; and the app set-ups and
flow look-ups several UI tests share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from records.sources.replay import ReplaySource
from records.store.rows import Flow
from tests.factories import FIXED_NOW
from tui.app import AppConfig, LambdestApp, create_app

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


def replay_app(path: Path) -> LambdestApp:
    """The app replaying one file, on a fixed clock (what `replay FILE` runs)."""
    return create_app(AppConfig(sources=[ReplaySource([str(path)])], clock=lambda: FIXED_NOW))


async def sources_live(pilot: Pilot[Any], app: LambdestApp) -> None:
    """Wait until every source of the app is live (a real sandbox may take a few seconds)."""
    await until(pilot, lambda: all(s.state == "live" for s in app.session.statuses.values()), "sources live", 3000)


def flow_of(app: LambdestApp, correlation_id: str) -> Flow | None:
    """The app's flow of this order id (None while no record or test order named it)."""
    store = app.session.store
    for position in range(store.flow_count()):
        flow = store.flow(store.flows()[position])
        if flow is not None and flow.correlation_id == correlation_id:
            return flow
    return None


def flow_status(app: LambdestApp, correlation_id: str) -> str | None:
    """The status of the app's flow of this order id (None while there is no such flow)."""
    flow = flow_of(app, correlation_id)
    return flow.status if flow is not None else None
