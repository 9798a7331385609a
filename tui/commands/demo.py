"""`lambdest-tui demo`: the local sandbox running the seed's order system, and the UI watching it.

Starts the sandbox (moto for SQS/SNS/EventBridge/S3 plus our Lambda endpoint with destinations),
taps its topics and peeks its queues other than topic subscribers (by default topic `order-notifications` and queue
`order-failures`), and watches every other destination discovery finds in the stack (buses
tapped, S3 failure buckets polled); wires `o` to the `order` function (the order presets only
when the stack is the order system), and stops everything when the UI exits.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from records.decode import DEFAULT_CORRELATOR, Correlator

if TYPE_CHECKING:
    from records.discovery import Plan
    from records.files import SessionWriter
    from records.sandbox import Sandbox
    from tui.app import AppConfig

__all__ = ["HELP", "add_arguments", "demo_config", "run"]

HELP = "try it with no AWS account: a local sandbox running the order system, with the UI on it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--stack, --save."""
    parser.add_argument("--stack", metavar="FILE", help="a sandbox stack file (TOML); default: the order system")
    parser.add_argument(
        "--save", metavar="FILE", help="the session file every received message is appended to (JSON Lines)"
    )
    from tui.commands.setups import add_correlate_argument

    add_correlate_argument(parser)


ORDER_HANDLERS = "records.sandbox.order_system.handlers:"


def is_order_system(sandbox: Sandbox) -> bool:
    """The stack runs the seed's order system (its `order` function is the shipped handler)."""
    return any(spec.name == "order" and spec.handler.startswith(ORDER_HANDLERS) for spec in sandbox.stack.functions)


def stack_plan(sandbox: Sandbox) -> Plan:
    """Discovery of every function of the running sandbox (in a thread of its own: callers may be
    inside an event loop)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from records.aws_options import AwsOptions
    from records.discovery import discover

    aws = AwsOptions(endpoint_url=sandbox.endpoint_url, region=sandbox.region)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, discover([], aws)).result()


def demo_config(
    sandbox: Sandbox, session: SessionWriter, correlator: Correlator = DEFAULT_CORRELATOR, plan: Plan | None = None
) -> AppConfig:
    """The app watching a running sandbox: its topics tapped, its queues peeked, every other
    destination of its functions watched (`plan`: discovery of the stack, made when not given),
    `o` -> `order`. Sets the sandbox's endpoint and dummy credentials in this process's environment."""
    from records.aws_options import AwsOptions
    from records.sources.base import Source
    from records.sources.plan import SourceSettings, sources_for_plan
    from tui.launch import live_config

    os.environ.update(sandbox.env)  # every client in this process (ours and aiobotocore's) uses it
    aws = AwsOptions(endpoint_url=sandbox.endpoint_url, region=sandbox.region)
    settings = SourceSettings(aws=aws, session=session, correlator=correlator, pollers=1, wait_time=5)
    sources: list[Source] = [settings.topic(topic) for topic in sandbox.topics]
    readers = {subscription.queue for subscription in sandbox.stack.subscriptions}  # the topic's tap shows theirs
    sources += [
        settings.queue(queue)
        for queue in sandbox.queues
        if not queue.endswith(".fifo")  # Lambda never delivers to FIFO queues: discovery says so below
        and queue not in readers  # a topic's subscriber queue: its records come through the tap
    ]
    plan = plan if plan is not None else stack_plan(sandbox)
    sources += sources_for_plan(  # buses, buckets, and what the stack's functions send to
        plan, settings, given=[*sandbox.topics, *sandbox.queues]
    )
    function = "order" if "order" in sandbox.functions else (sandbox.functions[0] if sandbox.functions else None)
    config = live_config(
        sources, aws, function, "lambdest-tui demo", f"sandbox {sandbox.endpoint_url}", watched=sandbox.functions
    )
    config.correlator = correlator
    config.dead_letter_queues = plan.dead_letter_queues()
    if not is_order_system(sandbox):  # the order presets make sense only for the order system
        config.presets = {}
        config.order_generator = None
    return config


def run(args: argparse.Namespace) -> int:
    """Start the sandbox, run the UI on it, stop the sandbox; the exit code."""
    from records.files import SessionWriter
    from records.lines import visible
    from records.sandbox import Sandbox, SandboxError, StackError
    from tui.commands.common import file_size, say, session_outcome, settle_streams
    from tui.commands.setups import apply_setup, correlator
    from tui.commands.tail import default_session_path
    from tui.launch import run_app

    code = apply_setup(args, "lambdest-tui demo")  # checks --correlate
    if code is not None:
        return code
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
    size_before = file_size(session_path)
    session: SessionWriter | None = None
    code = 1
    try:
        session = SessionWriter(session_path)
        ran = run_app(demo_config(sandbox, session, correlator(args)))
        for label in ran.never_live:
            say(visible(f"lambdest-tui demo: {label} never became live: {ran.failures.get(label, 'still connecting')}"))
        code = ran.exit_code()
    finally:
        if session is not None:
            session.close()
        sandbox.stop()
        if session is not None:
            say(f"lambdest-tui demo: {session_outcome(session_path, size_before)}")
        settle_streams()
    return code
