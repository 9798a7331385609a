"""Running the app on live sources with AWS access (shared by `watch` and `demo`; `replay` runs
its app through `run_app` too)."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from textual.app import AutopilotCallbackType

from records.aws_options import AwsOptions
from records.sources.base import Mode, Source, SourceEvent, SourceStatus
from tui.app import AppConfig, LambdestApp, create_app
from tui.heap import tune_process

__all__ = ["ENDING_SIGNALS", "Ran", "live_config", "run_app"]

ENDING_SIGNALS: dict[int, int] = {signal.SIGTERM: 143, signal.SIGHUP: 129}
"""The signals that quit the app like `q` (sources closed, taps removed), with the exit code each
gives; SIGHUP is a closed terminal (tmux, SSH)."""
EXIT_SOURCE_FAILED = 1
QUIT_GRACE = 10.0  # seconds a signalled app gets to exit after its sources are closed


def _leave_terminal() -> None:
    """The terminal is gone (SIGHUP): point stdout and stderr at /dev/null, so that the UI's last
    frames and its shutdown sequences are written somewhere instead of failing (a failed write
    stops Textual's writer thread and its shutdown then waits on it forever)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        with suppress(OSError):
            os.dup2(devnull, fd)
    os.close(devnull)


def _watchdog(app: LambdestApp, number: int) -> None:
    """After SIGTERM/SIGHUP: once every source is closed (taps removed), give the app QUIT_GRACE
    seconds to exit, then end the process: a UI whose terminal is gone must not linger."""
    app.wait_sources_closed(timeout=30.0)
    time.sleep(QUIT_GRACE)
    os._exit(ENDING_SIGNALS.get(number, 128 + number))


class WatchedSource:
    """A source whose statuses are remembered: did it ever become live, how did it fail."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.label: str = source.label
        self.mode: Mode = source.mode
        self.became_live = False
        self.failure: str | None = None

    async def __aiter__(self) -> AsyncIterator[SourceEvent]:
        async for event in self.source:
            if isinstance(event, SourceStatus):
                if event.state == "live":
                    self.became_live = True
                elif event.state == "failed":
                    self.failure = event.reason or "failed"
            yield event

    async def aclose(self) -> None:
        await self.source.aclose()


@dataclass
class Ran:
    """How a run of the app ended (what `run_app` returns).

    `signal`: the signal that ended the app (SIGTERM/SIGHUP), None when the user quit.
    `never_live`: the labels of the sources that never became live. `failures`: label -> why that
    source failed.
    """

    app: LambdestApp
    signal: int | None = None
    never_live: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)

    def exit_code(self) -> int:
        """143/129 when SIGTERM/SIGHUP ended it, 1 when a source never became live, else 0."""
        if self.signal is not None:
            return ENDING_SIGNALS.get(self.signal, 128 + self.signal)
        return EXIT_SOURCE_FAILED if self.never_live else 0


def live_config(
    sources: Sequence[Source],
    aws: AwsOptions,
    function: str | None,
    title: str,
    subtitle: str,
    watched: Sequence[str] = (),
) -> AppConfig:
    """An app config whose invoker sends asynchronous invokes with `aws` (test orders, re-drive).
    Signals are handled by `run_app` (SIGTERM and SIGHUP alike), not by the app.

    `function`: where `o` sends test orders (None: no test orders). `watched`: the functions the
    health screen reads (metrics, doctor). Each source is wrapped so `run_app` can tell which never
    became live; the first o/O/r toward a function asks first unless the endpoint is this machine.
    """
    from records.invoke import ORDER_KINDS, generate_order, invoke_event

    async def invoker(name: str, payload: Any) -> str:
        return await invoke_event(name, payload, aws)

    from records.identity import is_local

    presets: dict[str, Callable[[], Any]] = {kind: functools.partial(generate_order, kind) for kind in ORDER_KINDS}
    return AppConfig(
        sources=[WatchedSource(source) for source in sources],
        invoker=invoker,
        order_function=function,
        order_generator=generate_order,
        presets=presets,
        title=title,
        subtitle=subtitle,
        confirm_account=None if is_local(aws) else aws,  # the sandbox needs no confirmation
        aws=aws,
        watched_functions=list(watched),
    )


def run_app(
    config: AppConfig,
    *,
    headless: bool = False,
    auto_pilot: AutopilotCallbackType | None = None,
) -> Ran:
    """Run the app until the user quits, or SIGTERM/SIGHUP quits it the way `q` does; returns once
    every source is closed (taps removed). The entry point of every command that runs the UI: it tunes
    the process first (`tui.heap`); `auto_pilot` drives it in tests."""
    tune_process()
    app = create_app(config)
    ran = Ran(app)

    def on_signal(number: int) -> None:
        if ran.signal is not None:
            return  # already quitting
        ran.signal = number
        threading.Thread(target=_watchdog, args=(app, number), name="quit watchdog", daemon=True).start()
        app.call_later(app.action_quit)

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def on_hangup(number: int, _frame: object) -> None:
            # A plain handler, not the loop's: it must run before the SIGCONT the kernel sends with
            # a hang-up, which Textual answers by redrawing on the dead terminal (Python runs
            # pending handlers in signal-number order: SIGHUP, 1, first).
            _leave_terminal()
            with suppress(ValueError, OSError):
                signal.signal(signal.SIGCONT, signal.SIG_DFL)
            loop.call_soon_threadsafe(on_signal, number)

        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, on_signal, signal.SIGTERM)
        previous = signal.signal(signal.SIGHUP, on_hangup)
        try:
            await app.run_async(headless=headless, auto_pilot=auto_pilot)
        finally:
            signal.signal(signal.SIGHUP, previous)
            with suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGTERM)

    asyncio.run(main())
    app.wait_sources_closed()
    for source in config.sources:
        if isinstance(source, WatchedSource):
            if not source.became_live:
                ran.never_live.append(source.label)
            if source.failure is not None:
                ran.failures[source.label] = source.failure
    return ran
