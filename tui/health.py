"""The health poller: about once a minute (CloudWatch's resolution) it reads the watched functions'
metrics and the doctor's findings (`records.doctor.health.check`) in a thread of its own with its own
event loop, and posts `HealthRead` to the app. It only posts messages: the app keeps the latest
reading, sets the status bar's badge and shows it on the health screen.

The reading runs in a daemon thread, not on the UI's loop: building AWS clients and parsing their
answers costs CPU in bursts of tens of milliseconds, which must never sit between a key and its
repaint (benchmarks/health_latency.py). Quitting never waits for a reading in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Sequence

from records.aws_options import AwsOptions
from records.doctor.health import Health
from tui.messages import HealthRead

__all__ = ["HEALTH_SECONDS", "HealthPoller"]

HEALTH_SECONDS = 60.0


class HealthPoller:
    """`run()` is the worker (an async function on the app's loop that waits most of the time);
    `now()` asks for a reading at once (the health screen's `u`)."""

    def __init__(
        self,
        functions: Sequence[str],
        aws: AwsOptions,
        post: Callable[[HealthRead], object],
        interval: float = HEALTH_SECONDS,
    ) -> None:
        self.functions = list(functions)
        self.aws = aws
        self.post = post
        self.interval = interval
        self.readings = 0
        self._wake: asyncio.Event | None = None

    def now(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        self._wake = asyncio.Event()
        while True:
            self._wake.clear()
            health = await self._read()
            self.readings += 1
            self.post(HealthRead(health))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)

    async def _read(self) -> Health:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Health] = loop.create_future()

        def settle(health: Health) -> None:
            if not done.done():
                done.set_result(health)

        def read() -> None:
            health = read_once(self.functions, self.aws)
            with contextlib.suppress(RuntimeError):  # the app's loop closed while reading: nobody waits
                loop.call_soon_threadsafe(settle, health)

        threading.Thread(target=read, name="health reading", daemon=True).start()
        return await done


def read_once(functions: Sequence[str], aws: AwsOptions) -> Health:
    """One reading in this thread (its own event loop); any failure becomes a sentence."""
    from records.doctor.health import check

    try:
        return asyncio.run(check(functions, aws))
    except Exception as exc:  # never a crash: the health screen shows the sentence
        reason = f"Reading the health of {', '.join(functions)} failed: {type(exc).__name__}: {exc}"
        return Health(time.time(), metrics_error=reason, doctor_error=reason)
