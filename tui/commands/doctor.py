"""`lambdest-tui doctor FUNCTION... [--since 1h] [--format text|jsonl]`: why records might not arrive.

One line per check (DESIGN.md "Doctor and health"): function, qualifier, check, status (pass |
problem | unknown), destination, message, fix. `text` prints `STATUS check function destination:
message` with the fix on the next line; `jsonl` one JSON object a line. Exit codes: 0 no problem,
1 a problem (or nothing could be read: one sentence on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, TextIO

from tui.commands.common import add_aws_arguments, add_format_argument, aws_options

if TYPE_CHECKING:
    from records.doctor import Finding

HELP = "check why a function's destination records might not arrive (role, KMS, FIFO, metrics...)"
PROG = "lambdest-tui doctor"
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_SINCE = timedelta(days=63)  # CloudWatch keeps 1-minute data 15 days, 5-minute data 63 days


def duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match or int(match[1]) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 30m, 1h or 2d")
    value = timedelta(seconds=int(match[1]) * _UNITS[match[2]])
    if value > MAX_SINCE:
        raise argparse.ArgumentTypeError(f"{text!r} is longer than CloudWatch keeps metrics (63 days)")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("functions", nargs="+", metavar="FUNCTION", help="a function name, name:qualifier, ARN or glob")
    parser.add_argument(
        "--since", type=duration, default=timedelta(hours=1), help="how far back to read metrics (default: 1h)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="AWS calls in flight at once (default: 16)")
    add_format_argument(parser, default="text")
    add_aws_arguments(parser)


def write(findings: list[Finding], jsonl: bool, out: TextIO) -> None:
    from records.lines import visible

    for finding in findings:
        if jsonl:
            out.write(json.dumps(finding.to_json(), ensure_ascii=False) + "\n")
            continue
        status = {"pass": "ok", "problem": "PROBLEM", "unknown": "unknown"}[finding.status]
        qualifier = f":{finding.qualifier}" if finding.qualifier and finding.qualifier != "$LATEST" else ""
        out.write(visible(f"{status:<8} {finding.check:<19} {finding.function}{qualifier}: {finding.message}") + "\n")
        if finding.fix and finding.status != "pass":
            out.write(visible(f"{'':<28} fix: {finding.fix}") + "\n")


def run(args: argparse.Namespace) -> int:
    from records.discovery import DiscoveryError
    from records.doctor import diagnose
    from records.lines import visible

    if args.concurrency < 1:
        print(f"{PROG}: --concurrency must be at least 1", file=sys.stderr)
        return 2
    try:
        findings = asyncio.run(
            diagnose(args.functions, aws_options(args), since=args.since, concurrency=args.concurrency)
        )
    except DiscoveryError as exc:
        print(visible(f"{PROG}: {exc}"), file=sys.stderr)
        return 1
    write(findings, args.format == "jsonl", sys.stdout)
    return 1 if any(finding.status == "problem" for finding in findings) else 0
