"""`lambdest-tui invoke FUNCTION`: an asynchronous invocation, optionally followed through its flow.

Exit codes: 0 invoked (with --wait: the flow completed), 1 the flow failed or rolled back (the
words of the UI: records.store.rows.flow_status) or the invocation was
refused, 2 usage (bad --payload, an unknown AWS profile, no region: one sentence says how to set
it), 3 --wait ran out, with a diagnosis on stderr; 143 SIGTERM, 129 SIGHUP (taps removed first).
With `--format jsonl` stdout carries only record lines (the request id and the outcome go to stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.commands.common import add_aws_arguments, add_format_argument, aws_config_error, aws_options

if TYPE_CHECKING:
    from records.invoke import FlowEvent

__all__ = ["HELP", "UsageError", "add_arguments", "run"]

HELP = "invoke a function asynchronously (InvocationType Event); --wait follows its destinations"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The function, the payload and what to wait for."""
    parser.add_argument("function", metavar="FUNCTION", help="function name, name:qualifier or ARN")
    payload = parser.add_mutually_exclusive_group()
    payload.add_argument("--payload", metavar="JSON|@FILE", help="the event: JSON text, or @FILE to read it from")
    payload.add_argument(
        "--order",
        choices=("good", "out-of-stock", "declined", "random"),
        help="send a generated test order of the order system as the event",
    )
    parser.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="follow the function's destinations and print this invocation's records until the flow ends",
    )
    add_format_argument(parser)
    add_aws_arguments(parser)


class UsageError(ValueError):
    pass


def _payload(args: argparse.Namespace) -> Any:
    if args.order:
        from records.invoke import generate_order

        return generate_order(None if args.order == "random" else args.order)
    if args.payload is None:
        return {}
    text = args.payload
    source = "--payload"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {source}: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc


def run(args: argparse.Namespace) -> int:
    """Send the asynchronous invoke(s) and report; the exit code."""
    try:
        payload = _payload(args)
    except UsageError as exc:
        print(f"lambdest-tui invoke: {exc}", file=sys.stderr)
        return 2
    if args.wait is not None and args.wait <= 0:
        print("lambdest-tui invoke: --wait must be a positive number of seconds", file=sys.stderr)
        return 2
    problem = aws_config_error(args, "lambdest-tui invoke")
    if problem is not None:
        return problem
    ended_by: list[int] = []
    try:
        return asyncio.run(_run(args, payload, ended_by))
    except asyncio.CancelledError:  # SIGTERM or SIGHUP: the taps were removed on the way out
        return 129 if ended_by[:1] == [signal.SIGHUP] else 143


def _cancel_on_signals(ended_by: list[int]) -> None:
    """SIGTERM and SIGHUP (a closed terminal) cancel the run, so the taps are removed."""
    task = asyncio.current_task()
    if task is None:
        return

    def cancel(number: int) -> None:
        ended_by.append(number)
        task.cancel()

    for number in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(number, cancel, number)


async def _run(args: argparse.Namespace, payload: Any, ended_by: list[int]) -> int:
    from records.invoke import InvokeError, follow_flow, invoke_event
    from records.lines import visible

    aws = aws_options(args)
    jsonl = args.format == "jsonl"
    _cancel_on_signals(ended_by)
    try:
        if args.wait is None:
            print(await invoke_event(args.function, payload, aws), flush=True)
            return 0
        flow = follow_flow(args.function, payload, aws, args.wait)
        async with contextlib.aclosing(flow):  # closes the taps before this returns
            return await _print_flow(flow, jsonl)
    except InvokeError as exc:
        print(f"lambdest-tui invoke: {visible(str(exc))}", file=sys.stderr)
        return 1


async def _print_flow(flow: AsyncGenerator[FlowEvent, None], jsonl: bool) -> int:
    from records.invoke import FlowEnd, FlowInvoked
    from records.lines import dumps_json_line, text_line, visible

    async for event in flow:
        if isinstance(event, FlowInvoked):
            print(f"request id: {event.request_id}", file=sys.stderr if jsonl else sys.stdout, flush=True)
            continue
        if isinstance(event, FlowEnd):
            print(visible(event.words), file=sys.stderr if jsonl or event.outcome == "timeout" else sys.stdout)
            return {"succeeded": 0, "failed": 1}.get(event.outcome, 3)
        label = event.source + (" (nested)" if event.nested else "")
        line = dumps_json_line(event.decoded, label) if jsonl else text_line(event.decoded, label)
        print(line, flush=True)
    return 3
