"""`lambdest-tui destinations [--function F]...`: where functions' records go, and how each is watched.

One route a line: `--format jsonl` gives the fields of DESIGN.md ("Discovery"): function, qualifier,
route, destination, destination_type, via, watch, problem; `text` an aligned table. Sentences that
are not routes (a function without an OnFailure destination) follow the table as `note:` lines
(on stderr with jsonl). Exit codes: 0 every route can be watched; 1 some cannot (a problem: FIFO,
missing, not readable...) or nothing could be read (no region, no credentials: one sentence on
stderr); 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, TextIO

from records.discovery import short_name as short
from tui.commands.common import add_aws_arguments, add_format_argument, aws_options

if TYPE_CHECKING:
    from records.discovery import Plan, Route

HELP = "list where functions' records go: destinations, dead-letter queues, stream failures (no UI)"
PROG = "lambdest-tui destinations"
COLUMNS = ("FUNCTION", "QUALIFIER", "ROUTE", "TYPE", "DESTINATION", "VIA", "WATCH", "PROBLEM")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--function",
        action="append",
        default=[],
        metavar="NAME|ARN|GLOB",
        help="a function name, ARN or shell-style glob such as 'order*' "
        "(repeatable; none: every function in the region)",
    )
    parser.add_argument("--concurrency", type=int, default=16, help="AWS calls in flight at once (default: 16)")
    add_format_argument(parser, default="text")
    add_aws_arguments(parser)


def table(routes: list[Route]) -> list[str]:
    from records.lines import visible

    cells = [
        [
            route.function,
            route.qualifier or "-",
            route.route or "-",
            route.destination_type or "-",
            short(route.destination),
            route.via or "-",
            route.watch,
            route.problem or "",
        ]
        for route in routes
    ]
    cells = [[visible(cell) for cell in row] for row in cells]
    widths = [max(len(row[i]) for row in [list(COLUMNS), *cells]) for i in range(len(COLUMNS) - 1)]
    return [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in [list(COLUMNS), *cells]
    ]


def write(plan: Plan, jsonl: bool, out: TextIO, err: TextIO) -> None:
    from records.lines import visible

    if jsonl:
        for route in plan.routes:
            out.write(json.dumps(route.to_json(), ensure_ascii=False) + "\n")
    elif plan.routes:
        out.write("\n".join(table(plan.routes)) + "\n")
    else:
        err.write(f"{PROG}: no function here sends records anywhere\n")
    notes = out if not jsonl else err
    for note in plan.notes:
        notes.write(visible(f"note: {note}") + "\n")


def run(args: argparse.Namespace) -> int:
    from records.discovery import DiscoveryError, discover
    from records.lines import visible

    if args.concurrency < 1:
        print(f"{PROG}: --concurrency must be at least 1", file=sys.stderr)
        return 2
    try:
        plan = asyncio.run(discover(args.function, aws_options(args), concurrency=args.concurrency))
    except DiscoveryError as exc:
        print(visible(f"{PROG}: {exc}"), file=sys.stderr)
        return 1
    write(plan, args.format == "jsonl", sys.stdout, sys.stderr)
    return 1 if plan.problems else 0
