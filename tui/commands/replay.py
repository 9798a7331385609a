"""`lambdest-tui replay FILE...`: the UI on saved record files (instantly, or with original timing)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from records.sources.cli_args import positive_float

HELP = "the UI on saved record files (JSON, JSON Lines, .gz, folders, s3://bucket/prefix)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tui.commands.common import add_aws_arguments

    parser.add_argument("files", nargs="+", metavar="FILE", help="record files, folders or s3://bucket/prefix")
    parser.add_argument(
        "--speed",
        type=positive_float,
        default=None,
        help="keep the original timing, scaled (2 = twice as fast); default: as fast as possible",
    )
    from tui.commands.setups import add_correlate_argument

    add_correlate_argument(parser)
    add_aws_arguments(parser)


def run(args: argparse.Namespace) -> int:
    missing = [name for name in args.files if not name.startswith("s3://") and not Path(name).exists()]
    if missing:
        print(f"lambdest-tui replay: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    from records.sources.replay import ReplaySource
    from tui.app import AppConfig, create_app
    from tui.commands.common import aws_options
    from tui.commands.setups import apply_setup, correlator

    code = apply_setup(args, "lambdest-tui replay")  # checks --correlate
    if code is not None:
        return code
    source = ReplaySource(
        list(args.files), speed=args.speed, aws=aws_options(args), correlator=correlator(args), facts=True
    )
    first = Path(args.files[0]).name
    app = create_app(
        AppConfig(
            sources=[source],
            title="lambdest-tui replay",
            subtitle=first + (f" (+{len(args.files) - 1})" if len(args.files) > 1 else ""),
            save_path=f"{Path(first).stem}-saved.jsonl",
            quit_on_sigterm=True,
            correlator=correlator(args),
        )
    )
    app.run()
    app.wait_sources_closed()
    return 0
