"""An SNS topic as a live source, tapped through a temporary SQS queue.

At start it sweeps orphans (see records.sources.sweep: our own, dead taps), then creates a queue
named lambdest-tap-sns-..., tagged lambdest-tui=tap (+ created, heartbeat, host, boot, pid, topic), whose policy
lets only sns.amazonaws.com send and only from this topic (aws:SourceArn), and subscribes it to the
topic. By default delivery is enveloped (the body is the SNS Notification: TopicArn and MessageId
are kept and decoded); `raw_delivery=True` turns RawMessageDelivery on. `aclose()` unsubscribes
and deletes the queue. FIFO topics are not supported as Lambda destinations (and not here).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from records.sources.base import SourceStatus
from records.sources.faults import SourceFailed
from records.sources.taps import TapSource, tap_name, tap_tags

__all__ = ["SnsTap", "topic_display_name"]


def topic_display_name(topic: str) -> str:
    """The topic's name: the last part of an ARN, else `topic` itself."""
    return topic.rsplit(":", 1)[-1] if topic.startswith("arn:") else topic


class SnsTap(TapSource):
    """A `records.sources.base.Source` labelled "topic:NAME", mode "tap": the topic's messages, read
    from a temporary queue subscribed to it (see the module docstring).

    `topic` is a topic name (looked up in the caller's account and region) or a topic ARN (the
    temporary queue is made in its region). `raw_delivery` turns RawMessageDelivery on. The other
    options are `TapSource`'s. A FIFO topic fails the source."""

    kind = "sns"

    def __init__(self, topic: str, *, raw_delivery: bool = False, **options: Any) -> None:
        self.topic = topic
        self.name = topic_display_name(topic)
        self.raw_delivery = raw_delivery
        self.topic_arn: str | None = topic if topic.startswith("arn:") else None
        self.subscription_arn: str | None = None
        super().__init__(f"topic:{self.name}", **options)
        parts = topic.split(":")
        if topic.startswith("arn:") and len(parts) >= 6 and parts[3]:
            self.region = parts[3]  # the tap queue lives next to the topic

    async def _setup(self) -> AsyncIterator[SourceStatus]:
        if self._sns is None:
            self._sns = await self._client("sns")
        resource = f"topic {self.name}"
        if self.name.endswith(".fifo"):
            raise SourceFailed(f"{resource} is a FIFO topic: Lambda cannot send destination records to FIFO topics")
        if self.topic_arn is None:
            sts = await self._client("sts")
            async for status in self._call(sts.get_caller_identity, resource, "sts:GetCallerIdentity"):
                yield status
            account = self._result["Account"]
            region = self._sns.meta.region_name
            partition = "aws-cn" if str(region).startswith("cn-") else "aws"
            self.topic_arn = f"arn:{partition}:sns:{region}:{account}:{self.name}"
        topic_arn = self.topic_arn
        async for status in self._call(
            lambda: self._sns.get_topic_attributes(TopicArn=topic_arn), resource, "sns:GetTopicAttributes"
        ):
            yield status
        name = tap_name("sns")
        async for status in self._create_queue(name, tap_tags(topic=topic_arn)):
            yield status
        async for status in self._allow("sns.amazonaws.com", topic_arn):
            yield status
        attributes = {"RawMessageDelivery": "true"} if self.raw_delivery else {}
        async for status in self._call(
            lambda: self._sns.subscribe(
                TopicArn=topic_arn,
                Protocol="sqs",
                Endpoint=self.queue_arn,
                Attributes=attributes,
                ReturnSubscriptionArn=True,
            ),
            resource,
            "sns:Subscribe",
        ):
            yield status
        self.subscription_arn = str(self._result["SubscriptionArn"])

    async def _detach(self) -> None:
        if self.subscription_arn is not None and self._sns is not None:
            await self._sns.unsubscribe(SubscriptionArn=self.subscription_arn)
            self.subscription_arn = None

    def _forget(self) -> None:
        self.subscription_arn = None
