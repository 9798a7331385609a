"""`lambdest-tui inspect FILE...`: decode saved files without the UI.

Exit 0 when every input decoded, 1 when some did not, 2 on usage errors (a missing file included).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from records.decode import Correlator, Decoded
from records.files import read_inputs, read_stream
from records.lines import dumps_json_line, text_line
from tui.commands.common import add_format_argument

__all__ = ["HELP", "add_arguments", "run"]

HELP = "decode saved record files (JSON, JSON Lines, .gz, folders) without the UI"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The files to decode and how to print them."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="files or folders; - for standard input")
    add_format_argument(parser, default="text")
    parser.add_argument(
        "--correlate",
        action="append",
        metavar="JMESPATH",
        help="JMESPath expression for the correlation id on the innermost request payload "
        "(repeatable, first match wins; default: orderId, order_id, order.id, id)",
    )


def run(args: argparse.Namespace) -> int:
    """Decode the files and print their records (no UI); the exit code."""
    try:
        correlator = Correlator(args.correlate) if args.correlate else Correlator()
    except ValueError as exc:
        print(f"lambdest-tui inspect: {exc}", file=sys.stderr)
        return 2
    missing = [name for name in args.files if name != "-" and not Path(name).exists()]
    if missing:
        for name in missing:
            print(f"lambdest-tui inspect: no such file or folder: {name}", file=sys.stderr)
        return 2
    render: Callable[[Decoded, str], str] = dumps_json_line if args.format == "jsonl" else text_line
    out = sys.stdout
    write = out.write
    failures = total = 0
    try:
        for name in args.files:
            items = read_stream(sys.stdin.buffer, "-") if name == "-" else read_inputs([name])
            for item in items:
                for decoded in item.decode(correlator):
                    total += 1
                    if not decoded.ok:
                        failures += 1
                    write(render(decoded, item.label) + "\n")
        out.flush()
    except BrokenPipeError:
        sys.stderr.close()  # e.g. `| head`: stop quietly
        return 1 if failures else 0
    except OSError as exc:
        print(f"lambdest-tui inspect: {exc}", file=sys.stderr)
        return 2
    if args.format == "text":
        print(f"{total - failures} decoded, {failures} not records", file=sys.stderr)
    return 1 if failures else 0
