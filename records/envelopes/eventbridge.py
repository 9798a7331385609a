"""The EventBridge envelope: a Lambda destination event (source "lambda" or "aws.lambda",
detail-type "Lambda Function Invocation Result - ...") with the record in `detail`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from records.envelopes.base import FastEnvelope, FastModel, Layer
from records.models import AsyncInvocationRecord

__all__ = ["LAMBDA_EVENT_SOURCES", "EventBridgeEvent", "EventBridgeEventModel", "eventbridge_meta"]

LAMBDA_EVENT_SOURCES = frozenset({"lambda", "aws.lambda"})
_DETAIL_TYPE = "Lambda Function Invocation Result"


def eventbridge_meta(
    meta: Mapping[str, Any], event_id: Any, detail_type: Any, source: Any, time: Any, resources: Any
) -> dict[str, Any]:
    """`meta` with the metadata of an EventBridge layer added."""
    return {
        **meta,
        "eventbridge.id": event_id,
        "eventbridge.detail-type": detail_type,
        "eventbridge.source": source,
        "eventbridge.time": time,
        "eventbridge.resources": resources,
    }


class EventBridgeEventModel(FastModel):
    """One pass over a Lambda destination event holding a bare async-invocation record."""

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
        if not value.startswith(_DETAIL_TYPE):
            raise ValueError("not a Lambda destination event")
        return value

    @property
    def record(self) -> AsyncInvocationRecord:
        return self.detail


class EventBridgeEvent(FastEnvelope):
    """`{"source": "lambda", "detail-type": "Lambda Function Invocation Result - Success", "detail": {...}}`."""

    name = "eventbridge"
    fast_model = EventBridgeEventModel
    fast_hint = '"detail-type"'

    def matches(self, value: Any) -> bool:
        return isinstance(value, dict) and "detail-type" in value and "detail" in value

    def unwrap(self, value: dict[str, Any]) -> Iterable[Layer]:
        source, detail_type = value.get("source"), value.get("detail-type")
        meta = eventbridge_meta({}, value.get("id"), detail_type, source, value.get("time"), value.get("resources"))
        if source not in LAMBDA_EVENT_SOURCES or not str(detail_type).startswith(_DETAIL_TYPE):
            problem = (
                f"an EventBridge event from source {source!r} with detail-type {detail_type!r}, "
                "not a Lambda destination event"
            )
            return (Layer(self.name, meta, problem=problem),)
        return (Layer(self.name, meta, value.get("detail")),)

    def fast_meta(self, model: EventBridgeEventModel, meta: Mapping[str, Any]) -> dict[str, Any]:
        return eventbridge_meta(meta, model.id, model.detail_type, model.source, model.time, model.resources)
