"""The source pump: reads a source in a worker thread (its own event loop) and posts batches.

A replay decodes as fast as the CPU allows, so it must not run on the UI's event loop. Each source
gets a thread worker; events are batched (at most `BATCH` events or `FLUSH_SECONDS` old) and posted
as `SourceEvents`. At most `IN_FLIGHT` batches wait for the app at any time (back-pressure: a
million-record replay never piles up in the message queue). Cancelling the worker cancels the
source's iteration and `aclose()`s it in its own loop, so taps remove what they created.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable

from textual.worker import get_current_worker

from records.sources.base import FactsBatch, Source, SourceEvent, SourceStatus
from tui.messages import SourceEvents

__all__ = ["BATCH", "FLUSH_SECONDS", "IN_FLIGHT", "Pump", "Ticket"]

BATCH = 1000
FLUSH_SECONDS = 0.05
IN_FLIGHT = 4


class Ticket:
    """One slot of the back-pressure window; the app releases it after handling the batch."""

    def __init__(self, window: threading.Semaphore) -> None:
        self._window = window
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._window.release()


class Pump:
    """Reads one source and posts its events to `post` in batches."""

    def __init__(self, source: Source, post: Callable[[SourceEvents], object]) -> None:
        self.source = source
        self.post = post
        self.window = threading.Semaphore(IN_FLIGHT)
        self._pending: list[SourceEvent] = []
        self._last_flush = time.monotonic()
        self.started = False
        self.finished = threading.Event()  # set once the source is closed (taps removed)

    async def _flush(self) -> None:
        if not self._pending:
            return
        worker = get_current_worker()
        while not self.window.acquire(blocking=False):
            if worker.is_cancelled:
                raise asyncio.CancelledError
            await asyncio.sleep(0.005)
        events, self._pending = self._pending, []
        self._last_flush = time.monotonic()
        self.post(SourceEvents(events, Ticket(self.window)))

    async def _read(self) -> None:
        count = 0
        async for event in self.source:
            self._pending.append(event)
            count += 1
            if (
                len(self._pending) >= BATCH
                or isinstance(event, FactsBatch)  # a batch already
                or time.monotonic() - self._last_flush >= FLUSH_SECONDS
            ):
                await self._flush()
            elif count % 500 == 0:
                await asyncio.sleep(0)  # let the idle flusher and the cancel watch run

    async def run(self) -> None:
        """The worker body: read until the source ends or the worker is cancelled."""
        self.started = True
        worker = get_current_worker()
        reader = asyncio.create_task(self._read())
        try:
            while not reader.done():
                if worker.is_cancelled:
                    reader.cancel()
                    break
                await asyncio.wait({reader}, timeout=FLUSH_SECONDS)
                if time.monotonic() - self._last_flush >= FLUSH_SECONDS:
                    await self._flush()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            failure = None if reader.cancelled() else reader.exception()
            if failure is not None:
                self._pending.append(
                    SourceStatus(self.source.label, self.source.mode, "failed", f"{type(failure).__name__}: {failure}")
                )
            if not worker.is_cancelled:
                await self._flush()
        finally:
            try:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.source.aclose(), timeout=10)
            finally:
                self.finished.set()
