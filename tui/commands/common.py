"""Argument groups shared by several commands (AWS options, sources, output format)."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import suppress
from pathlib import Path

from records.aws_options import AwsOptions

__all__ = ["add_aws_arguments", "add_format_argument", "aws_options"]


def add_aws_arguments(parser: argparse.ArgumentParser) -> None:
    """--profile, --region, --endpoint-url."""
    group = parser.add_argument_group("AWS options (the standard AWS_* variables work too)")
    group.add_argument("--profile", help="named profile from ~/.aws/config")
    group.add_argument("--region", help="AWS region, e.g. eu-west-1")
    group.add_argument(
        "--endpoint-url",
        help="send every AWS call to this endpoint (a sandbox, LocalStack, moto); "
        "AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> also work",
    )


def aws_options(args: argparse.Namespace) -> AwsOptions:
    """The AWS options of a parsed command line."""
    return AwsOptions(
        profile=getattr(args, "profile", None),
        region=getattr(args, "region", None),
        endpoint_url=getattr(args, "endpoint_url", None),
    )


def add_format_argument(parser: argparse.ArgumentParser, default: str = "text") -> None:
    """--format jsonl|text."""
    parser.add_argument(
        "--format",
        choices=("jsonl", "text"),
        default=default,
        help=f"jsonl: one JSON object a line (a stable contract); text: for people (default: {default})",
    )


def settle_streams() -> None:
    """Flush stdout and stderr; one that cannot be written any more (its terminal hung up: SIGHUP)
    is pointed at /dev/null, so a last message or the interpreter's final flush does not fail and
    change the exit code."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            with suppress(OSError, ValueError):
                os.dup2(devnull, stream.fileno())
            os.close(devnull)


def say(text: str) -> None:
    """A line on stderr that never fails (after SIGHUP the terminal may be gone)."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        settle_streams()


def file_size(path: Path) -> int | None:
    """The size of `path`, None when it does not exist (taken before a session file is opened)."""
    try:
        return path.stat().st_size
    except OSError:
        return None


def session_outcome(path: Path, size_before: int | None) -> str:
    """After a session file is closed: what to tell the user. A file this run created and left
    empty is removed: nothing was received, there is nothing to keep."""
    size = file_size(path)
    if size is not None and size > (size_before or 0):
        return f"session saved in {path}"
    if size_before is None:
        with suppress(OSError):
            path.unlink()
        return "nothing was received; no session file kept"
    return f"nothing was received; {path} is unchanged"


def sources_need_region(args: argparse.Namespace) -> bool:
    """Whether the sources named need a configured region: a queue ARN or AWS queue URL, or a
    topic ARN, carries its own; a name (or any bus) does not."""
    from records.sources.sqs import queue_region

    if any(queue_region(queue) is None for queue in getattr(args, "queue", None) or []):
        return True
    if any(not (topic.startswith("arn:") and topic.split(":")[3:4] != [""]) for topic in args.topic or []):
        return True
    return bool(getattr(args, "bus", None))


def aws_config_error(args: argparse.Namespace, prog: str, *, needs_region: bool = True) -> int | None:
    """Check the AWS profile and region before anything starts: None when they can work, else the
    usage exit code (2) after one sentence on stderr saying what is missing and how to set it."""
    from records.aws_options import AwsConfigError

    try:
        aws_options(args).check(needs_region=needs_region)
    except AwsConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    return None
