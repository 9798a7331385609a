"""`@NAME` (a saved setup), `--read-only` and `--correlate` on the commands that watch or decode."""

from __future__ import annotations

import argparse
import sys

from records.decode import Correlator
from records.setups import ConfigError, Setup, config_path, load_config

__all__ = ["add_correlate_argument", "add_setup_arguments", "apply_setup", "correlator", "setup_of"]

EXIT_USAGE = 2


def add_correlate_argument(parser: argparse.ArgumentParser) -> None:
    """Add --correlate JMESPATH (repeatable) to `parser`."""
    parser.add_argument(
        "--correlate",
        action="append",
        metavar="JMESPATH",
        help="JMESPath expression for the correlation id (repeatable; default: orderId, order_id, order.id, id)",
    )


def add_setup_arguments(parser: argparse.ArgumentParser, *, correlate: bool = True) -> None:
    """Add the optional `@SETUP` positional, --read-only and, when `correlate` (a command without
    its own --correlate), --correlate."""
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
    """Merge the setup `args` names (if any) into `args`, then check what the command line asks.

    Lists add up (the setup's functions, queues, topics and buses first); the command line wins for
    the profile, region and endpoint, for --correlate, and for --mode unless it is the default
    "peek"; read-only is on when either asks for it. Then read-only is checked against consume
    mode and the --correlate expressions are compiled. Returns the exit code 2 after printing why
    on stderr (prefixed with `prog`), or None to go on.
    """
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
    """The correlator of the --correlate expressions, or the default one without them."""
    expressions = getattr(args, "correlate", None)
    return Correlator(expressions) if expressions else Correlator()


def setup_of(args: argparse.Namespace) -> Setup:
    """The sources and options of `args`, as a setup (to save)."""
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
