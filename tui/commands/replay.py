"""`lambdest-tui replay FILE...`: the UI on saved record files (instantly, or with original timing)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.commands.sources_args import positive_float

__all__ = ["HELP", "add_arguments", "run"]

HELP = "the UI on saved record files (JSON, JSON Lines, .gz, folders, s3://bucket/prefix)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The files, folders or s3:// prefixes, and --speed."""
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
    """Run the UI on the saved records (through `tui.launch.run_app`); the exit code."""
    missing = [name for name in args.files if not name.startswith("s3://") and not Path(name).exists()]
    if missing:
        print(f"lambdest-tui replay: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    from records.sources.replay import ReplaySource
    from tui.app import AppConfig
    from tui.commands.common import aws_config_error, aws_options
    from tui.commands.setups import apply_setup, correlator
    from tui.launch import run_app

    if any(name.startswith("s3://") for name in args.files):
        problem = aws_config_error(args, "lambdest-tui replay", needs_region=False)  # S3 finds the bucket's region
        if problem is not None:
            return problem

    code = apply_setup(args, "lambdest-tui replay")  # checks --correlate
    if code is not None:
        return code
    source = ReplaySource(
        list(args.files), speed=args.speed, aws=aws_options(args), correlator=correlator(args), facts=True
    )
    first = Path(args.files[0]).name
    ran = run_app(
        AppConfig(
            sources=[source],
            title="lambdest-tui replay",
            subtitle=first + (f" (+{len(args.files) - 1})" if len(args.files) > 1 else ""),
            correlator=correlator(args),
        )
    )
    return ran.exit_code()  # SIGTERM/SIGHUP quit like `q` (tui.launch)
