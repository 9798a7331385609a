"""`@NAME` (a saved setup), `--read-only` and `--correlate` on the commands that watch or decode.

Public API:
    add_setup_arguments(parser, correlate=True)   the optional `@SETUP` positional, --read-only and,
                                                  unless the command has its own, --correlate
    add_correlate_argument(parser)                --correlate JMESPATH (repeatable)
    apply_setup(args, prog) -> int | None         merges the named setup into `args` (the command
                                                  line wins for single values; lists add up) and
                                                  checks read-only against consume mode; returns the
                                                  exit code (2) after printing why, or None to go on
    correlator(args) -> Correlator                the --correlate expressions (or the defaults)
    setup_of(args) -> Setup                       the sources and options of `args`, as a setup
"""

from __future__ import annotations

import argparse
import sys

from records.decode import Correlator
from records.setups import ConfigError, Setup, config_path, load_config

EXIT_USAGE = 2


def add_correlate_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--correlate",
        action="append",
        metavar="JMESPATH",
        help="JMESPath expression for the correlation id (repeatable; default: orderId, order_id, order.id, id)",
    )


def add_setup_arguments(parser: argparse.ArgumentParser, *, correlate: bool = True) -> None:
    parser.add_argument(
        "setup",
        nargs="?",
        metavar="@SETUP",
        help=f"a saved setup from the config file ({config_path()}); options given here win",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=False,
        help="nothing that changes AWS: no test orders, no re-drive, no consume mode (taps are still made)",
    )
    if correlate:
        add_correlate_argument(parser)


def apply_setup(args: argparse.Namespace, prog: str) -> int | None:
    name = getattr(args, "setup", None)
    if name is not None:
        if not name.startswith("@") or len(name) < 2:
            print(f"{prog}: {name!r}: a saved setup is named with @, e.g. {prog} @checkout", file=sys.stderr)
            return EXIT_USAGE
        try:
            config = load_config()
        except ConfigError as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        setup = config.setups.get(name[1:])
        if setup is None:
            known = ", ".join(f"@{known}" for known in config.setups) or "none"
            print(f"{prog}: no setup {name} in {config_path()} (setups: {known})", file=sys.stderr)
            return EXIT_USAGE
        for key, values in (
            ("function", setup.functions),
            ("queue", setup.queues),
            ("topic", setup.topics),
            ("bus", setup.buses),
        ):
            if hasattr(args, key):
                setattr(args, key, [*values, *(getattr(args, key) or [])])
        for key in ("profile", "region", "endpoint_url"):
            if getattr(args, key, None) is None:
                setattr(args, key, getattr(setup, key))
        if getattr(args, "mode", "peek") == "peek" and hasattr(args, "mode"):
            args.mode = setup.mode
        if not getattr(args, "correlate", None) and setup.correlate:
            args.correlate = list(setup.correlate)
        args.read_only = bool(getattr(args, "read_only", False) or setup.read_only)
    if getattr(args, "read_only", False) and getattr(args, "mode", "peek") == "consume":
        print(
            f"{prog}: consume mode deletes messages from queues, which read-only mode forbids: use --mode peek",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if getattr(args, "correlate", None):
        try:
            Correlator(args.correlate)
        except ValueError as exc:
            print(f"{prog}: --correlate: {exc}", file=sys.stderr)
            return EXIT_USAGE
    return None


def correlator(args: argparse.Namespace) -> Correlator:
    expressions = getattr(args, "correlate", None)
    return Correlator(expressions) if expressions else Correlator()


def setup_of(args: argparse.Namespace) -> Setup:
    return Setup(
        functions=list(getattr(args, "function", None) or []),
        queues=list(getattr(args, "queue", None) or []),
        topics=list(getattr(args, "topic", None) or []),
        buses=list(getattr(args, "bus", None) or []),
        profile=getattr(args, "profile", None),
        region=getattr(args, "region", None),
        endpoint_url=getattr(args, "endpoint_url", None),
        mode=getattr(args, "mode", "peek"),
        correlate=list(getattr(args, "correlate", None) or []),
        read_only=bool(getattr(args, "read_only", False)),
    )
