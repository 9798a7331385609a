"""One-pass models of the common envelopes around a bare async-invocation record.

`records.decode` tries these first on JSON text: pydantic-core then parses and validates an SNS
notification (its `Message` included) or an EventBridge event in a single pass. They accept only
the plain case (a Lambda destination event holding an async-invocation record); anything else fails
validation and is decoded by the general path, which also explains what is wrong.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Json, field_validator

from records.models import AsyncInvocationRecord


class SnsNotification(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, cache_strings="keys")  # as records.models

    type: Literal["Notification"] = Field(alias="Type")
    message: Json[AsyncInvocationRecord] = Field(alias="Message")
    topic_arn: Any = Field(default=None, alias="TopicArn")
    message_id: Any = Field(default=None, alias="MessageId")
    timestamp: Any = Field(default=None, alias="Timestamp")
    subject: Any = Field(default=None, alias="Subject")

    def layer_meta(self, meta: dict[str, Any]) -> dict[str, Any]:
        """The same metadata the general path records for an SNS layer."""
        layer = {
            **meta,
            "sns.TopicArn": self.topic_arn,
            "sns.MessageId": self.message_id,
            "sns.Timestamp": self.timestamp,
        }
        if self.subject:
            layer["sns.Subject"] = self.subject
        return layer


class LambdaEventBridgeEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, cache_strings="keys")  # as records.models

    source: Literal["lambda", "aws.lambda"]
    detail_type: str = Field(alias="detail-type")
    detail: AsyncInvocationRecord
    id: Any = None
    time: Any = None
    resources: Any = None

    @field_validator("detail_type")
    @classmethod
    def _lambda_result(cls, value: str) -> str:
        if not value.startswith("Lambda Function Invocation Result"):
            raise ValueError("not a Lambda destination event")
        return value

    def layer_meta(self, meta: dict[str, Any]) -> dict[str, Any]:
        """The same metadata the general path records for an EventBridge layer."""
        return {
            **meta,
            "eventbridge.id": self.id,
            "eventbridge.detail-type": self.detail_type,
            "eventbridge.source": self.source,
            "eventbridge.time": self.time,
            "eventbridge.resources": self.resources,
        }
