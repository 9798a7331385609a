"""The SNS notification envelope (SNS -> SQS without raw delivery): the record is JSON text in
`Message`. Its layer metadata is also the metadata of an SNS Lambda event's records
(`records.envelopes.lambda_events`), which carry the same fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import ConfigDict, Field, Json

from records.envelopes.base import FastEnvelope, FastModel, Layer
from records.models import AsyncInvocationRecord

__all__ = ["SnsNotification", "SnsNotificationModel", "sns_meta"]


def sns_meta(meta: Mapping[str, Any], topic_arn: Any, message_id: Any, timestamp: Any, subject: Any) -> dict[str, Any]:
    """`meta` with the metadata of an SNS layer added (the notification's TopicArn, MessageId,
    Timestamp and, when there is one, Subject)."""
    layer = {**meta, "sns.TopicArn": topic_arn, "sns.MessageId": message_id, "sns.Timestamp": timestamp}
    if subject:
        layer["sns.Subject"] = subject
    return layer


class SnsNotificationModel(FastModel):
    """One pass over an SNS notification holding a bare async-invocation record."""

    model_config = ConfigDict(extra="ignore", frozen=True, cache_strings="keys")  # as records.models

    type: Literal["Notification"] = Field(alias="Type")
    message: Json[AsyncInvocationRecord] = Field(alias="Message")
    topic_arn: Any = Field(default=None, alias="TopicArn")
    message_id: Any = Field(default=None, alias="MessageId")
    timestamp: Any = Field(default=None, alias="Timestamp")
    subject: Any = Field(default=None, alias="Subject")

    @property
    def record(self) -> AsyncInvocationRecord:
        return self.message


class SnsNotification(FastEnvelope):
    """`{"Type": "Notification", "Message": "<record as JSON text>", "TopicArn": ...}`."""

    name = "sns"
    fast_model = SnsNotificationModel
    fast_hint = '"Notification"'

    def matches(self, value: Any) -> bool:
        return isinstance(value, dict) and value.get("Type") == "Notification" and "Message" in value

    def unwrap(self, value: dict[str, Any]) -> Iterable[Layer]:
        meta = sns_meta({}, value.get("TopicArn"), value.get("MessageId"), value.get("Timestamp"), value.get("Subject"))
        if isinstance(value.get("MessageAttributes"), dict):  # a dead-letter topic's carry RequestID...
            meta["sns.MessageAttributes"] = value["MessageAttributes"]
        return (Layer(self.name, meta, value.get("Message"), text_of="SNS"),)

    def fast_meta(self, model: SnsNotificationModel, meta: Mapping[str, Any]) -> dict[str, Any]:
        return sns_meta(meta, model.topic_arn, model.message_id, model.timestamp, model.subject)
