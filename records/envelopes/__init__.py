"""The envelopes a record can arrive in, as one registry.

Each envelope is a class (`records.envelopes.base.Envelope`): `matches` a parsed JSON value,
`unwrap`s it into layers (what it holds and the layer's metadata, or why it holds no record), and
may have a one-pass fast model. `records.decode` loops `ENVELOPES` for the general path and
`FAST_ENVELOPES` for the one-pass path.

  sns          an SNS notification (SNS -> SQS without raw delivery)        records.envelopes.sns
  eventbridge  an EventBridge event from source "lambda" or "aws.lambda"    records.envelopes.eventbridge
  sqs-event    a Lambda SQS event (`Records[].body`), a layer per record    records.envelopes.lambda_events
  sns-event    a Lambda SNS event (`Records[].Sns.Message`), likewise       records.envelopes.lambda_events
  json-string  a record that was JSON-encoded twice                         records.envelopes.json_string
"""

from __future__ import annotations

from records.envelopes.base import Envelope, FastEnvelope, Layer
from records.envelopes.eventbridge import EventBridgeEvent
from records.envelopes.json_string import JsonString
from records.envelopes.lambda_events import LambdaEvent, SnsEventRecord, SqsEventRecord
from records.envelopes.sns import SnsNotification

__all__ = [
    "ENVELOPES",
    "FAST_ENVELOPES",
    "Envelope",
    "EventBridgeEvent",
    "FastEnvelope",
    "JsonString",
    "LambdaEvent",
    "Layer",
    "SnsEventRecord",
    "SnsNotification",
    "SqsEventRecord",
]

_SNS, _EVENTBRIDGE = SnsNotification(), EventBridgeEvent()

ENVELOPES: tuple[Envelope, ...] = (JsonString(), _SNS, _EVENTBRIDGE, LambdaEvent())
"""The general path's envelopes, in the order they are tried: the first that matches unwraps."""

FAST_ENVELOPES: tuple[FastEnvelope, ...] = (_EVENTBRIDGE, _SNS)
"""The envelopes with a one-pass model, in the order their hints are looked for in a text's head."""
