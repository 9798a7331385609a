"""`lambdest-tui tail SOURCES`: records from live queues, topics and buses as lines on stdout.

Status (connecting, live, reconnecting and why, failed and why) goes to stderr. Exit codes:
0 when --max-records or --idle-timeout ended it; 1 when a source failed (missing credentials,
AccessDenied, no such queue/topic/bus...: one line on stderr names the resource and the fix);
2 on usage errors; 130 on Ctrl+C; 143 on SIGTERM. Temporary tap resources are removed in every case
but kill -9 (the next start sweeps those after an hour).

In consume mode every message is appended to a session file and fsynced before it is deleted from
its queue: --save FILE names it, otherwise one is created under the state directory
($XDG_STATE_HOME or ~/.local/state)/lambdest-tui/sessions and its path printed on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from records.decode import Correlator, Decoded
from records.files import SessionWriter
from records.lines import dumps_json_line, text_line, visible
from records.message import Message
from records.sources.base import FactsBatch, SourceEvent, SourceStatus
from records.sources.cli_args import (
    SourceArgumentError,
    add_source_arguments,
    positive_float,
    positive_int,
    sources_from_args,
)
from records.sources.merge import MergedSource
from tui.commands.common import add_aws_arguments, add_format_argument, aws_options

HELP = "print records from live queues, topics and buses as lines (no UI)"
PROG = "lambdest-tui tail"
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    add_format_argument(parser, default="text")
    parser.add_argument("--max-records", type=positive_int, metavar="N", help="stop after N lines")
    parser.add_argument(
        "--idle-timeout", type=positive_float, metavar="SECONDS", help="stop after SECONDS without a message"
    )
    parser.add_argument(
        "--save",
        metavar="FILE",
        help="append every message as received to FILE (JSON Lines; `replay`/`inspect` read it back)",
    )
    parser.add_argument(
        "--correlate",
        action="append",
        metavar="JMESPATH",
        help="JMESPath expression for the correlation id (repeatable; default: orderId, order_id, order.id, id)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only failures on stderr, not every status")
    add_aws_arguments(parser)


def default_session_path(command: str = "tail") -> Path:
    """A new session file in platformdirs' user state folder (on Linux $XDG_STATE_HOME, else
    ~/.local/state) under lambdest-tui/sessions/, named for the command. The session writer
    creates the folders it needs 0700 and the file 0600."""
    import platformdirs  # here: only a command that writes a session needs it

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    sessions = platformdirs.user_state_path("lambdest-tui", appauthor=False) / "sessions"
    return sessions / f"{command}-{stamp}-{os.getpid()}.jsonl"


def _status_line(status: SourceStatus) -> str:
    reason = f": {status.reason}" if status.reason else ""
    return visible(f"{PROG}: {status.source} {status.state}{reason}")


class _Tail:
    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
        self.args = args
        self.out = out
        self.err = err
        self.render: Callable[[Decoded, str], str] = dumps_json_line if args.format == "jsonl" else text_line
        self.lines = 0
        self.failed: list[str] = []

    def status(self, status: SourceStatus) -> None:
        if status.state == "failed":
            self.failed.append(status.reason or status.source)
            self.err.write(visible(f"{PROG}: {status.reason or status.source + ' failed'}") + "\n")
        elif not self.args.quiet:
            self.err.write(_status_line(status) + "\n")
        self.err.flush()

    def message(self, message: Message) -> bool:
        """Print the message's lines; False once --max-records is reached."""
        limit = self.args.max_records
        for decoded in message.decoded:
            self.out.write(self.render(decoded, message.source) + "\n")
            self.lines += 1
            if limit is not None and self.lines >= limit:
                break
        return limit is None or self.lines < limit

    async def run(self, merged: MergedSource) -> int:
        events: asyncio.Queue[SourceEvent | None] = asyncio.Queue(maxsize=100)

        async def pump() -> None:
            try:
                async for event in merged:
                    await events.put(event)
            finally:
                await events.put(None)

        task = asyncio.get_running_loop().create_task(pump(), name="tail pump")
        idle = self.args.idle_timeout
        deadline = time.monotonic() + idle if idle is not None else None
        try:
            while True:
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    event = await asyncio.wait_for(events.get(), timeout)
                except TimeoutError:
                    return 0
                if event is None:
                    return EXIT_FAILED if self.failed else 0
                if isinstance(event, SourceStatus):
                    self.status(event)
                    if event.state == "failed":
                        return EXIT_FAILED
                    continue
                if isinstance(event, FactsBatch):  # only a replay asked for facts sends these
                    raise TypeError("tail needs a source of messages, not of facts")
                if idle is not None:
                    deadline = time.monotonic() + idle
                more = self.message(event)
                if not more or events.empty():
                    self.out.flush()  # once per burst, not once per line
                if not more:
                    return 0
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


async def _main(args: argparse.Namespace, tail: _Tail) -> int:
    session: SessionWriter | None = None
    if args.save:
        session = SessionWriter(args.save)
    elif args.mode == "consume" and (args.queue or args.topic or args.bus):
        path = default_session_path()
        session = SessionWriter(path)
        tail.err.write(f"{PROG}: consume mode: every message is saved to {path} before it is deleted\n")
    correlator = Correlator(args.correlate) if args.correlate else Correlator()
    try:
        sources = sources_from_args(args, session, aws_options(args), correlator=correlator)
        merged = MergedSource(sources)
        loop = asyncio.get_running_loop()
        main_task = asyncio.current_task()
        terminated = False

        def on_sigterm() -> None:
            nonlocal terminated
            if terminated:
                return  # already cleaning up: let it finish
            terminated = True
            if main_task is not None:
                main_task.cancel()

        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        try:
            return await tail.run(merged)
        except asyncio.CancelledError:
            if terminated:
                return EXIT_SIGTERM
            raise
        finally:
            await merged.aclose()
            for source in sources:
                for problem in getattr(source, "cleanup_errors", []):
                    tail.err.write(visible(f"{PROG}: clean-up: {problem}") + "\n")
    finally:
        if session is not None:
            session.close()


def run(args: argparse.Namespace) -> int:
    tail = _Tail(args, sys.stdout, sys.stderr)
    try:
        if args.correlate:
            Correlator(args.correlate)
    except ValueError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(_main(args, tail))
    except SourceArgumentError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_SIGINT
    except BrokenPipeError:
        # e.g. `| head`: stop quietly (and keep the interpreter's final flush from failing again)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
