"""`lambdest-tui watch SOURCES`: the UI on live queues, topics and buses, or a function's destinations.

`--function F` (repeatable, globs) watches every destination discovery finds for F (see
`lambdest-tui destinations`); `o` sends test orders to the first function.

Every message received is appended to a session file (`--save FILE`, or one under the state
directory), so payloads are re-read from disk on demand instead of being held in memory, and the
session can be replayed later with `lambdest-tui replay FILE`. When nothing was received no
session file is kept (one named with --save that existed before is left as it was).

Exit codes: 0 the user quit; 1 a source never became live (each named on stderr, with why);
2 usage errors (also an unknown AWS profile, or no region when a source needs one);
143 SIGTERM, 129 SIGHUP (a closed terminal): both quit like `q`, so the sources are closed and the
taps removed first.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from records.lines import visible

HELP = "the UI on a function's destinations or live queues, topics and buses (--function, --queue, --topic, --bus)"
PROG = "lambdest-tui watch"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tui.commands.common import add_aws_arguments
    from tui.commands.setups import add_setup_arguments
    from tui.commands.sources_args import add_source_arguments

    add_setup_arguments(parser)  # @SETUP, --read-only, --correlate
    add_source_arguments(parser)  # includes --function: `o` sends test orders to the first
    parser.add_argument(
        "--save", metavar="FILE", help="the session file every received message is appended to (JSON Lines)"
    )
    add_aws_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from records.discovery import DiscoveryError
    from records.files import SessionWriter
    from tui.commands.common import (
        aws_config_error,
        aws_options,
        file_size,
        say,
        session_outcome,
        settle_streams,
        sources_need_region,
    )
    from tui.commands.functions import order_function, plan_for
    from tui.commands.setups import apply_setup, correlator, setup_of
    from tui.commands.sources_args import SourceArgumentError, has_sources, sources_from_args
    from tui.commands.tail import default_session_path

    code = apply_setup(args, "lambdest-tui watch")  # @SETUP merged into args; read-only vs consume
    if code is not None:
        return code
    if not has_sources(args):
        print(f"{PROG}: name at least one source: --function, --queue, --topic or --bus", file=sys.stderr)
        return 2
    problem = aws_config_error(args, PROG, needs_region=sources_need_region(args))
    if problem is not None:
        return problem
    aws = aws_options(args)
    try:
        plan = asyncio.run(plan_for(args, aws))  # --function: its destinations
    except DiscoveryError as exc:
        print(visible(f"{PROG}: {exc}"), file=sys.stderr)
        return 1
    session_path = Path(args.save) if args.save else default_session_path("watch")
    size_before = file_size(session_path)
    try:
        session = SessionWriter(session_path)
    except OSError as exc:
        print(f"{PROG}: cannot write the session file {session_path}: {exc}", file=sys.stderr)
        return 2
    try:
        sources = sources_from_args(args, session, aws, plan=plan, correlator=correlator(args))
    except SourceArgumentError as exc:
        session.close()
        session_outcome(session_path, size_before)
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    code = 1
    try:
        from tui.launch import live_config, run_app

        function = order_function(args, plan)
        watched = list(plan.function_arns) if plan is not None else []  # the health screen's functions
        config = live_config(sources, aws, function, PROG, f"session {session_path}", watched=watched)
        config.correlator = correlator(args)
        config.read_only = args.read_only
        config.setup = setup_of(args)  # the palette can save these sources as a setup
        config.dead_letter_queues = plan.dead_letter_queues() if plan is not None else {}
        ran = run_app(config)
        for label in ran.never_live:
            why = ran.failures.get(label, "it had not connected when the UI closed")
            say(visible(f"{PROG}: {label} never became live: {why}"))
        code = ran.exit_code()
        return code
    finally:
        session.close()
        say(f"{PROG}: {session_outcome(session_path, size_before)}")
        settle_streams()
