"""`lambdest-tui demo`: the local sandbox running the seed's order system, and the UI watching it.

Starts the sandbox (moto for SQS/SNS/EventBridge/S3 plus our Lambda endpoint with destinations),
taps its topics and peeks its queues other than topic subscribers (by default topic
`order-notifications` and queue `order-failures`), wires `o` to the `order` function, and stops
everything when the UI exits.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from records.files import SessionWriter
    from records.sandbox import Sandbox
    from tui.app import AppConfig

HELP = "try it with no AWS account: a local sandbox running the order system, with the UI on it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", metavar="FILE", help="a sandbox stack file (TOML); default: the order system")
    parser.add_argument(
        "--save", metavar="FILE", help="the session file every received message is appended to (JSON Lines)"
    )


def demo_config(sandbox: Sandbox, session: SessionWriter) -> AppConfig:
    """The app watching a running sandbox: its topics tapped, its queues peeked, `o` -> `order`.
    Sets the sandbox's endpoint and dummy credentials in this process's environment."""
    from records.aws_options import AwsOptions
    from records.sources.base import Source
    from records.sources.sns import SnsTap
    from records.sources.sqs import SqsQueueSource
    from tui.launch import live_config

    os.environ.update(sandbox.env)  # every client in this process (ours and aiobotocore's) uses it
    aws = AwsOptions(endpoint_url=sandbox.endpoint_url, region=sandbox.region)
    sources: list[Source] = [
        SnsTap(topic, session=session, aws=aws, wait_time=5, visibility_timeout=30) for topic in sandbox.topics
    ]
    readers = {subscription.queue for subscription in sandbox.stack.subscriptions}  # the topic's tap shows theirs
    sources += [
        SqsQueueSource(queue, mode="peek", session=session, aws=aws, wait_time=5, pollers=1)
        for queue in sandbox.queues
        if queue not in readers
    ]
    function = "order" if "order" in sandbox.functions else (sandbox.functions[0] if sandbox.functions else None)
    return live_config(sources, aws, function, "lambdest-tui demo", f"sandbox {sandbox.endpoint_url}")


def run(args: argparse.Namespace) -> int:
    from records.files import SessionWriter
    from records.sandbox import Sandbox, SandboxError, StackError
    from tui.commands.tail import default_session_path
    from tui.launch import run_app

    try:
        sandbox = Sandbox(args.stack)
    except (StackError, OSError, ValueError) as exc:
        print(f"lambdest-tui demo: {exc}", file=sys.stderr)
        return 2
    print("lambdest-tui demo: starting the sandbox…", file=sys.stderr)
    try:
        sandbox.start()
    except (SandboxError, OSError) as exc:
        print(f"lambdest-tui demo: the sandbox did not start: {exc}", file=sys.stderr)
        sandbox.stop()
        return 1
    session_path = Path(args.save) if args.save else default_session_path("demo")
    session: SessionWriter | None = None
    try:
        session = SessionWriter(session_path)
        run_app(demo_config(sandbox, session))
    finally:
        if session is not None:
            session.close()
        sandbox.stop()
    print(f"lambdest-tui demo: session saved in {session_path}", file=sys.stderr)
    return 0
