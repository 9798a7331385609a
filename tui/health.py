"""The health poller: about once a minute (CloudWatch's resolution) it reads the watched functions'
metrics and the doctor's findings and posts `HealthRead` to the app. It only posts messages: the
app keeps the latest reading, sets the status bar's badge and shows it on the health screen.

Each reading runs in a child process (`records.doctor.health_worker`), waited for by a daemon
thread: in the UI's process, even in another thread, building AWS clients and parsing their answers
held the interpreter lock long enough to push key presses past 100 ms (p95 144 ms, against 55 ms
without a reading; benchmarks/health_latency.py). Quitting kills a reading in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from records.aws_options import AwsOptions
from records.doctor.health import Health
from tui.messages import HealthRead

__all__ = ["HEALTH_SECONDS", "READ_TIMEOUT", "HealthPoller", "read_once"]

HEALTH_SECONDS = 60.0
READ_TIMEOUT = 120.0  # a reading that takes longer is killed and reported
WINDOW = timedelta(hours=1)


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
        self.reading = False  # a reading is in flight (benchmarks/health_latency.py times keys meanwhile)
        self._wake: asyncio.Event | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def now(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        self._wake = asyncio.Event()
        try:
            while True:
                self._wake.clear()
                self.reading = True
                try:
                    health = await self._read()
                finally:
                    self.reading = False
                self.readings += 1
                self.post(HealthRead(health))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)
        finally:
            self.stop()

    def stop(self) -> None:
        """Kill a reading in flight (the app is closing)."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    async def _read(self) -> Health:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Health] = loop.create_future()

        def settle(health: Health) -> None:
            if not done.done():
                done.set_result(health)

        def read() -> None:
            health = read_once(self.functions, self.aws, started=self._started)
            with contextlib.suppress(RuntimeError):  # the app's loop closed while reading: nobody waits
                loop.call_soon_threadsafe(settle, health)

        threading.Thread(target=read, name="health reading", daemon=True).start()
        return await done

    def _started(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process


def read_once(
    functions: Sequence[str],
    aws: AwsOptions,
    *,
    timeout: float = READ_TIMEOUT,
    started: Callable[[subprocess.Popen[bytes]], object] = lambda process: None,
) -> Health:
    """One reading in a child process (blocking: call it from a thread); any failure is a sentence."""
    from records.doctor.health_worker import task

    root = str(Path(__file__).resolve().parents[1])  # where the `records` package is
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "records.doctor.health_worker", task(functions, aws, WINDOW)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,  # never the terminal the UI draws on
            env=env,
        )
    except OSError as exc:
        return _failed(functions, f"the reading process did not start: {exc}")
    started(process)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return _failed(functions, f"it took longer than {timeout:.0f} s")
    try:
        return Health.from_json(json.loads(out.decode().strip().splitlines()[-1]))
    except (IndexError, KeyError, TypeError, ValueError):
        lines = err.decode(errors="replace").strip().splitlines()
        why = lines[-1] if lines else f"exit code {process.returncode}"
        return _failed(functions, f"the reading process ended without an answer ({why})")


def _failed(functions: Sequence[str], why: str) -> Health:
    reason = f"Reading the health of {', '.join(functions)} failed: {why}."
    return Health(time.time(), metrics_error=reason, doctor_error=reason)
