"""`lambdest-tui tail SOURCES`: records from live queues, topics and buses as lines on stdout.

`--function F` (repeatable, globs) adds every destination discovery finds for F; a route that
cannot be watched gets a `not watched: ...` status line.

Status (connecting, live, reconnecting and why, failed and why) goes to stderr. Exit codes:
0 when --max-records or --idle-timeout ended it; 1 when a source failed (missing credentials,
--function found nothing to watch, AccessDenied, no such queue/topic/bus...: one line on stderr
names the resource and the fix) or,
at --idle-timeout, when a source never became live (each named on stderr with its last status);
2 on usage errors (also an unknown AWS profile, or no region when a source needs one: one
sentence says what is missing and how to set it); 130 on Ctrl+C; 143 on SIGTERM; 129 on SIGHUP
(the terminal closed: a killed tmux session, a dropped SSH connection). Temporary tap resources
are removed in every case but kill -9 (the next start on this host sweeps those at once, one
elsewhere once their heartbeat is an hour old).

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
from pathlib import Path
from typing import TextIO

from records.decode import Correlator, Decoded
from records.discovery import DiscoveryError
from records.files import SessionWriter
from records.lines import dumps_json_line, text_line, visible
from records.message import Message
from records.sources.base import FactsBatch, SourceEvent, SourceStatus
from records.sources.merge import MergedSource
from tui.commands.common import (
    add_aws_arguments,
    add_format_argument,
    aws_config_error,
    aws_options,
    file_size,
    session_outcome,
    settle_streams,
    sources_need_region,
)
from tui.commands.functions import plan_for
from tui.commands.sources_args import (
    SourceArgumentError,
    add_source_arguments,
    has_sources,
    positive_float,
    positive_int,
    sources_from_args,
)

HELP = "print records from live queues, topics and buses as lines (no UI)"
PROG = "lambdest-tui tail"
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SIGINT = 130
EXIT_SIGTERM = 143
EXIT_SIGHUP = 129
# Signals that end `tail` like Ctrl+C does (sources closed, taps removed), with their exit codes.
ENDING_SIGNALS = {signal.SIGTERM: EXIT_SIGTERM, signal.SIGHUP: EXIT_SIGHUP}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tui.commands.setups import add_setup_arguments

    add_setup_arguments(parser, correlate=False)  # @SETUP, --read-only (tail has its own --correlate)
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
    """A new session file in `records.session_file.session_dir()` (platformdirs' state directory), named
    for the command."""
    from records.session_file import new_session_path

    return new_session_path(command)


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
        self.live: set[str] = set()  # sources that became live at least once
        self.last: dict[str, SourceStatus] = {}

    def status(self, status: SourceStatus) -> None:
        self.last[status.source] = status
        if status.state == "live":
            self.live.add(status.source)
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

    def never_live(self, labels: list[str]) -> int:
        """Name each source that never became live (with its last status); EXIT_FAILED if any."""
        missing = [label for label in labels if label not in self.live]
        for label in missing:
            last = self.last.get(label)
            how = f" (last status: {last.state}{': ' + last.reason if last.reason else ''})" if last else ""
            self.err.write(visible(f"{PROG}: {label} never became live{how}") + "\n")
        self.err.flush()
        return EXIT_FAILED if missing else 0

    async def run(self, merged: MergedSource, labels: list[str]) -> int:
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
                    return self.never_live(labels)
                if event is None:
                    return EXIT_FAILED if self.failed else self.never_live(labels)
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
    path: Path | None = None
    if args.save:
        path = Path(args.save)
    elif args.mode == "consume" and (args.queue or args.topic or args.bus or args.function):
        path = default_session_path()
    size_before = file_size(path) if path is not None else None
    try:
        if args.save:
            session = SessionWriter(args.save)
        elif path is not None:
            session = SessionWriter(path)
    except OSError as exc:
        tail.err.write(visible(f"{PROG}: cannot write the session file {path}: {exc}") + "\n")
        return 2
    if path is not None and not args.save:
        tail.err.write(f"{PROG}: consume mode: every message is saved to {path} before it is deleted\n")
    correlator = Correlator(args.correlate) if args.correlate else Correlator()
    try:
        plan = await plan_for(args, aws_options(args))  # --function
        sources = sources_from_args(args, session, aws_options(args), correlator=correlator, plan=plan)
        merged = MergedSource(sources)
        loop = asyncio.get_running_loop()
        main_task = asyncio.current_task()
        ended_by: list[int] = []

        def on_signal(number: int) -> None:
            if ended_by:
                return  # already cleaning up: let it finish
            ended_by.append(number)
            if main_task is not None:
                main_task.cancel()

        for number in ENDING_SIGNALS:
            with suppress(NotImplementedError, RuntimeError, AttributeError):
                loop.add_signal_handler(number, on_signal, number)
        try:
            return await tail.run(merged, [source.label for source in sources])
        except asyncio.CancelledError:
            if ended_by:
                return ENDING_SIGNALS[signal.Signals(ended_by[0])]
            raise
        finally:
            await merged.aclose()
            for source in sources:
                for problem in getattr(source, "cleanup_errors", []):
                    with suppress(OSError):  # after SIGHUP the terminal may be gone
                        tail.err.write(visible(f"{PROG}: clean-up: {problem}") + "\n")
    finally:
        if session is not None and path is not None:
            session.close()
            outcome = session_outcome(path, size_before)
            if outcome.startswith("nothing") and not args.quiet:
                with suppress(OSError):
                    tail.err.write(f"{PROG}: {outcome}\n")


def run(args: argparse.Namespace) -> int:
    from tui.commands.setups import apply_setup

    code = apply_setup(args, PROG)  # @SETUP merged into args; read-only vs consume
    if code is not None:
        return code
    tail = _Tail(args, sys.stdout, sys.stderr)
    try:
        if args.correlate:
            Correlator(args.correlate)
    except ValueError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if has_sources(args):
        problem = aws_config_error(args, PROG, needs_region=sources_need_region(args))
        if problem is not None:
            return problem
    try:
        code = asyncio.run(_main(args, tail))
        settle_streams()
        return code
    except SourceArgumentError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DiscoveryError as exc:  # --function: nothing could be read, or nothing can be watched
        print(visible(f"{PROG}: {exc}"), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_SIGINT
    except BrokenPipeError:
        # e.g. `| head`: stop quietly (and keep the interpreter's final flush from failing again)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
