"""The source options shared by `watch` and `tail` on the command line: argparse arguments in,
`records.sources.options.SourceOptions` out."""

from __future__ import annotations

import argparse

from records.aws_options import AwsOptions
from records.decode import DEFAULT_CORRELATOR, Correlator
from records.files import SessionWriter
from records.sources.base import Source
from records.sources.options import SourceOptions, SourceOptionsError, build_sources

__all__ = [
    "SourceArgumentError",
    "add_source_arguments",
    "has_sources",
    "options_from_args",
    "positive_float",
    "positive_int",
    "sources_from_args",
]

SourceArgumentError = SourceOptionsError
"""Arguments that name no source or contradict each other; the message is for the user."""


def positive_float(text: str) -> float:
    """argparse type: a number greater than 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _visibility(text: str) -> int:
    value = positive_int(text)
    if value > 43_200:
        raise argparse.ArgumentTypeError("SQS allows at most 43200 seconds (12 hours)")
    return value


def _wait_time(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 20:
        raise argparse.ArgumentTypeError("SQS long polling waits 0 to 20 seconds")
    return value


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """--queue/--topic/--bus (repeatable, mixable), --mode, --pollers, --visibility-timeout,
    --wait-time, --pattern, --allow-redrive-peek, --raw-delivery."""
    group = parser.add_argument_group("sources (each repeatable, mix freely)")
    group.add_argument(
        "--queue", action="append", default=[], metavar="NAME|URL|ARN", help="an SQS queue a destination sends to"
    )
    group.add_argument(
        "--topic",
        action="append",
        default=[],
        metavar="NAME|ARN",
        help="an SNS topic, tapped through a temporary queue that is removed on exit",
    )
    group.add_argument(
        "--bus",
        action="append",
        default=[],
        metavar="NAME",
        help="an EventBridge bus, tapped through a temporary rule and queue that are removed on exit",
    )
    group.add_argument(
        "--mode",
        choices=("peek", "consume"),
        default="peek",
        help="queues only. peek (default): delete nothing, show each message once; consume: delete "
        "each message once its record is safely in the session file",
    )
    group.add_argument("--pollers", type=positive_int, default=2, help="concurrent long-polls per queue (default: 2)")
    group.add_argument(
        "--visibility-timeout",
        type=_visibility,
        default=30,
        metavar="SECONDS",
        help="how long a received message stays hidden from other consumers (default: 30)",
    )
    group.add_argument(
        "--wait-time", type=_wait_time, default=20, metavar="SECONDS", help="SQS long-poll wait (default: 20)"
    )
    group.add_argument(
        "--pattern",
        metavar="JSON",
        help="buses only: the EventBridge event pattern (default: Lambda destination success and failure events)",
    )
    group.add_argument(
        "--allow-redrive-peek",
        action="store_true",
        help="peek a queue that has a redrive policy (each peek counts toward its maxReceiveCount)",
    )
    group.add_argument(
        "--raw-delivery",
        action="store_true",
        help="topics only: subscribe with RawMessageDelivery (the SNS envelope, TopicArn and MessageId are lost)",
    )


def has_sources(args: argparse.Namespace) -> bool:
    """True when the command line names at least one queue, topic or bus."""
    return options_from_args(args).any


def options_from_args(args: argparse.Namespace) -> SourceOptions:
    """The source options of a parsed command line (missing attributes take their defaults)."""
    defaults = SourceOptions()
    return SourceOptions(
        queues=tuple(getattr(args, "queue", None) or ()),
        topics=tuple(getattr(args, "topic", None) or ()),
        buses=tuple(getattr(args, "bus", None) or ()),
        mode=getattr(args, "mode", defaults.mode),
        pollers=getattr(args, "pollers", defaults.pollers),
        visibility_timeout=getattr(args, "visibility_timeout", defaults.visibility_timeout),
        wait_time=getattr(args, "wait_time", defaults.wait_time),
        pattern=getattr(args, "pattern", None),
        allow_redrive_peek=getattr(args, "allow_redrive_peek", False),
        raw_delivery=getattr(args, "raw_delivery", False),
    )


def sources_from_args(
    args: argparse.Namespace,
    session: SessionWriter | None,
    aws: AwsOptions | None = None,
    *,
    correlator: Correlator = DEFAULT_CORRELATOR,
) -> list[Source]:
    """The sources a parsed command line names (`records.sources.options.build_sources`); raises
    `SourceArgumentError` with a sentence for the user when they do not make sense."""
    aws = aws or AwsOptions(
        profile=getattr(args, "profile", None),
        region=getattr(args, "region", None),
        endpoint_url=getattr(args, "endpoint_url", None),
    )
    return build_sources(options_from_args(args), session, aws, correlator=correlator)
