"""Source options shared by `watch` and `tail` (and anything else that reads live sources)."""

from __future__ import annotations

import argparse

from records.aws_options import AwsOptions
from records.decode import DEFAULT_CORRELATOR, Correlator
from records.discovery import Plan
from records.files import SessionWriter
from records.sources.base import Source
from records.sources.eventbridge import parse_pattern
from records.sources.plan import SourceSettings, sources_for_plan

__all__ = [
    "SourceArgumentError",
    "add_source_arguments",
    "has_sources",
    "positive_float",
    "positive_int",
    "sources_from_args",
]


class SourceArgumentError(ValueError):
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
    """Add the source options to `parser`: --queue/--topic/--bus/--function (repeatable, mixable),
    --mode, --pollers, --visibility-timeout, --wait-time, --pattern, --allow-redrive-peek and
    --raw-delivery."""
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
        "--function",
        action="append",
        default=[],
        metavar="NAME|ARN|GLOB",
        help="watch every destination of this function (and of the functions its Lambda destinations lead to), "
        "found by `lambdest-tui destinations`; globs such as 'order*' work; `o` sends test orders to the first",
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
    """Whether `args` names a source (a --queue, --topic, --bus or --function)."""
    return bool(
        getattr(args, "queue", None)
        or getattr(args, "topic", None)
        or getattr(args, "bus", None)
        or getattr(args, "function", None)
    )


def sources_from_args(
    args: argparse.Namespace,
    session: SessionWriter | None,
    aws: AwsOptions | None = None,
    *,
    correlator: Correlator = DEFAULT_CORRELATOR,
    plan: Plan | None = None,
) -> list[Source]:
    """The sources `args` names, in the order given on the command line within each kind: an
    SqsQueueSource per --queue, then an SnsTap per --topic, then an EventBridgeTap per --bus, then
    the sources of `plan` (the discovery plan of --function, from `tui.commands.functions.plan_for`)
    but those already named. Received messages go to `session`; `aws` defaults to the AWS options
    of `args`. Raises SourceArgumentError when no source is named, or --pattern is given without
    --bus or is not a valid pattern.
    """
    if not has_sources(args):
        raise SourceArgumentError(
            "name at least one source: --function NAME, --queue NAME|URL|ARN, --topic NAME|ARN or --bus NAME"
        )
    aws = aws or AwsOptions(
        profile=getattr(args, "profile", None),
        region=getattr(args, "region", None),
        endpoint_url=getattr(args, "endpoint_url", None),
    )
    pattern = getattr(args, "pattern", None)
    if pattern is not None and not args.bus:
        raise SourceArgumentError("--pattern applies to --bus sources only")
    try:
        pattern_text = parse_pattern(pattern) if pattern is not None else None
    except ValueError as exc:
        raise SourceArgumentError(str(exc)) from exc
    settings = SourceSettings(
        aws=aws,
        session=session,
        correlator=correlator,
        mode=getattr(args, "mode", "peek"),
        pollers=getattr(args, "pollers", 2),
        visibility_timeout=getattr(args, "visibility_timeout", 30),
        wait_time=getattr(args, "wait_time", 20),
        allow_redrive_peek=getattr(args, "allow_redrive_peek", False),
        raw_delivery=getattr(args, "raw_delivery", False),
    )
    sources: list[Source] = [settings.queue(queue) for queue in args.queue]
    sources += [settings.topic(topic) for topic in args.topic]
    sources += [settings.bus(bus, pattern_text) for bus in args.bus]
    if plan is not None:  # --function: its destinations (records.sources.plan), without what is named above
        sources += sources_for_plan(plan, settings, given=[*args.queue, *args.topic, *args.bus])
    return sources
