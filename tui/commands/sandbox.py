"""`lambdest-tui sandbox`: only the local stand-in for AWS, serving until interrupted.

Prints `export NAME=VALUE` lines (endpoint, region, dummy credentials), then a comment line
containing `ready`, and serves until Ctrl+C or SIGTERM. Records that cannot be delivered are
reported on stderr as they happen. No process is left behind.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import threading
from types import FrameType

__all__ = ["HELP", "add_arguments", "run"]

HELP = "run the local stand-in for AWS (moto + Lambda with destinations) with the order system"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--stack, --port and the rest of the sandbox's options."""
    parser.add_argument("--stack", metavar="FILE", help="stack file (TOML); default: the shipped order system")
    parser.add_argument(
        "--time-factor",
        type=float,
        default=None,
        help="scale of Lambda's retry back-off (~60 s, ~120 s) and event age; default 1/60 (~1 s, ~2 s)",
    )
    parser.add_argument("--port", type=int, default=0, help="port of the endpoint (default: a free one)")
    parser.add_argument(
        "--duplicates",
        type=float,
        default=0.0,
        metavar="RATE",
        help="deliver this share (0-1) of async events twice, with the same request id, as Lambda's "
        "at-least-once queue may: idempotency bugs show locally (default 0)",
    )


def _report(failure: object) -> None:
    from records.sandbox import DeliveryFailure

    if isinstance(failure, DeliveryFailure):
        print(
            f"sandbox: record of {failure.function} NOT delivered to {failure.destination}: {failure.reason}",
            file=sys.stderr,
            flush=True,
        )


def run(args: argparse.Namespace) -> int:
    """Run the sandbox until interrupted; the exit code."""
    from records.sandbox import DEFAULT_TIME_FACTOR, Sandbox, SandboxError, StackError

    logging.basicConfig(level=logging.ERROR, stream=sys.stderr, format="%(message)s")
    time_factor = DEFAULT_TIME_FACTOR if args.time_factor is None else args.time_factor
    try:
        sandbox = Sandbox(
            args.stack,
            time_factor=time_factor,
            port=args.port,
            on_delivery_failure=_report,
            duplicates=args.duplicates,
        )
    except (StackError, ValueError) as exc:
        print(f"lambdest-tui sandbox: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            sandbox.start()
        except SandboxError as exc:
            print(f"lambdest-tui sandbox: {exc}", file=sys.stderr)
            return 1
        for name, value in sandbox.env.items():
            print(f"export {name}={shlex.quote(value)}")
        print(f"# AWS CLI v1 ignores AWS_ENDPOINT_URL: pass --endpoint-url {sandbox.endpoint_url}")
        for kind, names in (("functions", sandbox.functions), ("queues", sandbox.queues), ("topics", sandbox.topics)):
            print(f"# {kind}: {', '.join(names) or '-'}")
        print(f"# lambdest-tui sandbox ready at {sandbox.endpoint_url} (Ctrl+C to stop)", flush=True)
        while not stop.wait(0.5):
            pass
        return 0
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
