"""The `lambdest-tui` command line: one sub-command per module under `tui.commands`.

Each command module exposes `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`.
Modules are imported lazily so that `inspect` or `tail` never pay for importing Textual.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

__all__ = ["COMMANDS", "CommandModule", "build_parser", "main"]

# name -> module holding the command (kept in the order `--help` lists them)
COMMANDS: dict[str, str] = {
    "start": "tui.commands.start",  # what plain `lambdest-tui` (no command) runs
    "demo": "tui.commands.demo",
    "watch": "tui.commands.watch",
    "replay": "tui.commands.replay",
    "tail": "tui.commands.tail",
    "inspect": "tui.commands.inspect",
    "invoke": "tui.commands.invoke",
    "destinations": "tui.commands.destinations",
    "doctor": "tui.commands.doctor",
    "sandbox": "tui.commands.sandbox",
}


class CommandModule(Protocol):
    """What a module under `tui.commands` provides: `HELP`, `add_arguments(parser)`, `run(args)`."""

    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(name: str) -> CommandModule | None:
    try:
        return cast(CommandModule, importlib.import_module(COMMANDS[name]))
    except ModuleNotFoundError as exc:
        if exc.name == COMMANDS[name]:
            return None  # a command not built yet in this checkout
        raise


def version() -> str:
    """The installed package's version (importlib.metadata), or "unknown" when it is not installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("lambdest-tui")
    except PackageNotFoundError:
        return "unknown"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The `lambdest-tui` parser; with `only`, only that command's module is imported."""
    parser = argparse.ArgumentParser(
        prog="lambdest-tui",
        description="Watch AWS Lambda Destinations at work: decode, link and inspect execution records.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        if only is not None and name != only:
            sub.add_parser(name, add_help=False)
            continue
        module = _load(name)
        if module is None:
            continue
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command `argv` names; its exit code (130 on Ctrl+C)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help", "--version")):
        args_list.insert(0, "start")  # plain `lambdest-tui [--profile P] [--region R]`: the start screen
    # Only import the module of the command asked for (keeps `inspect` and `tail` free of Textual).
    only = args_list[0] if args_list and args_list[0] in COMMANDS else None
    parser = build_parser(only)
    args = parser.parse_args(args_list)
    module = getattr(args, "_module", None)
    if module is None:
        parser.error(f"unknown command {args.command!r}")
    try:
        return int(module.run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
