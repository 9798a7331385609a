"""Live sources from plain values: the queues, topics and buses to read and how (no argparse here;
the command line's side is `tui.commands.sources_args`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from records.aws_options import AwsOptions
from records.decode import DEFAULT_CORRELATOR, Correlator
from records.files import SessionWriter
from records.sources.base import Source
from records.sources.eventbridge import EventBridgeTap, parse_pattern
from records.sources.sns import SnsTap
from records.sources.sqs import QueueMode, SqsQueueSource

__all__ = ["SourceOptions", "SourceOptionsError", "build_sources"]


class SourceOptionsError(ValueError):
    """Options that name no source or contradict each other; the message is a sentence for the user."""


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """What to read: SQS queues (name, URL or ARN), SNS topics (name or ARN), EventBridge buses, and
    how. `mode`, `pollers` and `allow_redrive_peek` apply to queues, `raw_delivery` to topics,
    `pattern` (event pattern JSON text) to buses; `wait_time` and `visibility_timeout` to all."""

    queues: Sequence[str] = ()
    topics: Sequence[str] = ()
    buses: Sequence[str] = ()
    mode: QueueMode = "peek"
    pollers: int = 2
    visibility_timeout: int = 30
    wait_time: int = 20
    pattern: str | None = None
    allow_redrive_peek: bool = False
    raw_delivery: bool = False

    @property
    def any(self) -> bool:
        """True when at least one queue, topic or bus is named."""
        return bool(self.queues or self.topics or self.buses)


def build_sources(
    options: SourceOptions,
    session: SessionWriter | None,
    aws: AwsOptions,
    *,
    correlator: Correlator = DEFAULT_CORRELATOR,
) -> list[Source]:
    """SqsQueueSource / SnsTap / EventBridgeTap objects in the order given (queues, then topics,
    then buses); raises `SourceOptionsError` when the options do not make sense."""
    if not options.any:
        raise SourceOptionsError("name at least one source: --queue NAME|URL|ARN, --topic NAME|ARN or --bus NAME")
    if options.pattern is not None and not options.buses:
        raise SourceOptionsError("--pattern applies to --bus sources only")
    try:
        pattern_text = parse_pattern(options.pattern) if options.pattern is not None else None
    except ValueError as exc:
        raise SourceOptionsError(str(exc)) from exc
    sources: list[Source] = []
    for queue in options.queues:
        sources.append(
            SqsQueueSource(
                queue,
                mode=options.mode,
                pollers=options.pollers,
                visibility_timeout=options.visibility_timeout,
                allow_redrive_peek=options.allow_redrive_peek,
                session=session,
                aws=aws,
                wait_time=options.wait_time,
                correlator=correlator,
            )
        )
    for topic in options.topics:
        sources.append(
            SnsTap(
                topic,
                raw_delivery=options.raw_delivery,
                session=session,
                aws=aws,
                wait_time=options.wait_time,
                visibility_timeout=options.visibility_timeout,
                correlator=correlator,
            )
        )
    for bus in options.buses:
        sources.append(
            EventBridgeTap(
                bus,
                pattern=pattern_text,
                session=session,
                aws=aws,
                wait_time=options.wait_time,
                visibility_timeout=options.visibility_timeout,
                correlator=correlator,
            )
        )
    return sources
