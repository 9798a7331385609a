"""`lambdest-tui watch SOURCES`: the UI on live queues, topics and buses, or a function's destinations.

`--function F` (repeatable, globs) watches every destination discovery finds for F (see
`lambdest-tui destinations`); `o` sends test orders to the first function.

Every message received is appended to a session file (`--save FILE`, or one under the state
directory), so payloads are re-read from disk on demand instead of being held in memory, and the
session can be replayed later with `lambdest-tui replay FILE`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

HELP = "the UI on a function's destinations or live queues, topics and buses (--function, --queue, --topic, --bus)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from records.sources.cli_args import add_source_arguments
    from tui.commands.common import add_aws_arguments
    from tui.commands.setups import add_setup_arguments

    add_setup_arguments(parser)  # @SETUP, --read-only, --correlate
    add_source_arguments(parser)  # includes --function: `o` sends test orders to the first
    parser.add_argument(
        "--save", metavar="FILE", help="the session file every received message is appended to (JSON Lines)"
    )
    add_aws_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from records.discovery import DiscoveryError
    from records.files import SessionWriter
    from records.lines import visible
    from records.sources.cli_args import SourceArgumentError, has_sources, sources_from_args
    from tui.commands.common import aws_options
    from tui.commands.functions import order_function, plan_for
    from tui.commands.setups import apply_setup, correlator, setup_of
    from tui.commands.tail import default_session_path

    code = apply_setup(args, "lambdest-tui watch")  # @SETUP merged into args; read-only vs consume
    if code is not None:
        return code
    if not has_sources(args):
        print("lambdest-tui watch: name at least one source: --function, --queue, --topic or --bus", file=sys.stderr)
        return 2
    aws = aws_options(args)
    try:
        plan = asyncio.run(plan_for(args, aws))  # --function: its destinations
    except DiscoveryError as exc:
        print(visible(f"lambdest-tui watch: {exc}"), file=sys.stderr)
        return 1
    session_path = Path(args.save) if args.save else default_session_path("watch")
    try:
        session = SessionWriter(session_path)
    except OSError as exc:
        print(f"lambdest-tui watch: cannot write the session file {session_path}: {exc}", file=sys.stderr)
        return 2
    try:
        sources = sources_from_args(args, session, aws, plan=plan, correlator=correlator(args))
    except SourceArgumentError as exc:
        session.close()
        if session_path.stat().st_size == 0 and not args.save:
            session_path.unlink()
        print(f"lambdest-tui watch: {exc}", file=sys.stderr)
        return 2
    try:
        from tui.launch import live_config, run_app

        function = order_function(args, plan)
        config = live_config(sources, aws, function, "lambdest-tui watch", f"session {session_path}")
        config.correlator = correlator(args)
        config.read_only = args.read_only
        config.setup = setup_of(args)  # the palette can save these sources as a setup
        run_app(config)
        return 0
    finally:
        session.close()
        print(f"lambdest-tui watch: session saved in {session_path}", file=sys.stderr)
