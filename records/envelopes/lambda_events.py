"""Lambda events that carry records: an SQS event (`Records[].body`) and an SNS event
(`Records[].Sns.Message`), as a function subscribed to a destination queue or topic receives them.

`LambdaEvent` is the `Records` list; each of its records is unwrapped by the item envelope whose
event source it names (`SqsEventRecord`, `SnsEventRecord`), one layer per record. An S3 event
notification only names the object that holds the record: it is reported, not unwrapped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from records.envelopes.base import Envelope, Layer, describe
from records.envelopes.sns import sns_meta

__all__ = ["LambdaEvent", "SnsEventRecord", "SqsEventRecord"]


class SqsEventRecord(Envelope):
    """One record of a Lambda SQS event: `{"eventSource": "aws:sqs", "body": "<record>", ...}`."""

    name = "sqs-event"

    def matches(self, value: Any) -> bool:
        return isinstance(value, dict) and (value.get("eventSource") or value.get("EventSource")) == "aws:sqs"

    def unwrap_item(self, item: dict[str, Any], index: int) -> Layer:
        meta: dict[str, Any] = {
            "sqs-event.messageId": item.get("messageId"),
            "sqs-event.eventSourceARN": item.get("eventSourceARN"),
            "sqs-event.index": index,
        }
        if isinstance(item.get("messageAttributes"), dict):
            meta["messageAttributes"] = item["messageAttributes"]
        return Layer(self.name, meta, item.get("body"), text_of="SQS")

    def unwrap(self, value: dict[str, Any]) -> Iterable[Layer]:
        return (self.unwrap_item(value, 0),)


class SnsEventRecord(Envelope):
    """One record of a Lambda SNS event: `{"EventSource": "aws:sns", "Sns": {"Message": "<record>", ...}}`.
    Its metadata is an SNS layer's (`sns_meta`) and its index."""

    name = "sns-event"

    def matches(self, value: Any) -> bool:
        return isinstance(value, dict) and (value.get("eventSource") or value.get("EventSource")) == "aws:sns"

    def unwrap_item(self, item: dict[str, Any], index: int) -> Layer:
        sns_value = item.get("Sns")
        sns: dict[str, Any] = sns_value if isinstance(sns_value, dict) else {}
        meta = sns_meta({}, sns.get("TopicArn"), sns.get("MessageId"), sns.get("Timestamp"), sns.get("Subject"))
        meta["sns-event.index"] = index
        if isinstance(sns.get("MessageAttributes"), dict):  # a dead-letter topic's carry RequestID...
            meta["sns.MessageAttributes"] = sns["MessageAttributes"]
        return Layer(self.name, meta, sns.get("Message"), text_of="SNS")

    def unwrap(self, value: dict[str, Any]) -> Iterable[Layer]:
        return (self.unwrap_item(value, 0),)


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


class LambdaEvent(Envelope):
    """`{"Records": [...]}`: a Lambda event, one layer per record it holds."""

    name = "lambda-event"  # never recorded: each record's layer is named by its item envelope
    ITEMS: tuple[SqsEventRecord | SnsEventRecord, ...] = (SqsEventRecord(), SnsEventRecord())

    def matches(self, value: Any) -> bool:
        return isinstance(value, dict) and isinstance(value.get("Records"), list)

    def unwrap(self, value: dict[str, Any]) -> Iterable[Layer]:
        records: list[Any] = value["Records"]
        if not records:
            return (Layer(None, problem="an event with an empty Records list, not an execution record"),)
        return [self._item(item, index) for index, item in enumerate(records)]

    def _item(self, item: Any, index: int) -> Layer:
        if not isinstance(item, dict):
            return Layer(None, problem=f"Records[{index}] is {describe(item)}, not an event record")
        for envelope in self.ITEMS:
            if envelope.matches(item):
                return envelope.unwrap_item(item, index)
        source = item.get("eventSource") or item.get("EventSource")
        if source == "aws:s3":
            bucket = _dig(item, "s3", "bucket", "name")
            key = _dig(item, "s3", "object", "key")
            return Layer(
                None, problem=f"an S3 event notification: the record is in the object it names (s3://{bucket}/{key})"
            )
        return Layer(
            None,
            problem=f"Records[{index}] is an event from {source or 'an unknown source'!s}, not an execution record",
        )
