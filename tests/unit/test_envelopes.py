"""The envelope registry: each envelope matches only its own kind, unwraps it with its metadata,
and its one-pass model gives exactly the metadata its general unwrap gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from records.decode import decode
from records.envelopes import (
    ENVELOPES,
    FAST_ENVELOPES,
    EventBridgeEvent,
    JsonString,
    LambdaEvent,
    SnsNotification,
)

GOLDEN = Path(__file__).parent.parent / "golden" / "good"
RECORD = json.loads((GOLDEN / "success.json").read_text())

SNS = {
    "Type": "Notification",
    "MessageId": "m-1",
    "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
    "Subject": "order failed",
    "Message": json.dumps(RECORD),
    "Timestamp": "2026-11-27T10:15:31.000Z",
    "Signature": "abc",
}
EVENTBRIDGE = {
    "version": "0",
    "id": "e-1",
    "detail-type": "Lambda Function Invocation Result - Success",
    "source": "lambda",
    "time": "2026-11-27T10:15:31Z",
    "resources": ["arn:aws:lambda:us-east-1:123456789012:function:order"],
    "detail": RECORD,
}


def golden_values() -> list[Any]:
    return [json.loads(path.read_text()) for path in sorted(GOLDEN.glob("*.json"))]


def test_each_value_matches_at_most_the_envelope_it_is() -> None:
    expected = {
        "sns_notification.json": SnsNotification,
        "sns_notification_lambda_spelling.json": SnsNotification,
        "eventbridge_success.json": EventBridgeEvent,
        "eventbridge_failure_aws_lambda.json": EventBridgeEvent,
        "lambda_sqs_event.json": LambdaEvent,
        "lambda_sns_event.json": LambdaEvent,
        "double_encoded.json": JsonString,
    }
    for path in sorted(GOLDEN.glob("*.json")):
        value = json.loads(path.read_text())
        matching = [type(envelope) for envelope in ENVELOPES if envelope.matches(value)]
        assert matching == ([expected[path.name]] if path.name in expected else []), path.name


@pytest.mark.parametrize(("wrapper", "value"), [(FAST_ENVELOPES[1], SNS), (FAST_ENVELOPES[0], EVENTBRIDGE)])
def test_fast_model_metadata_is_the_unwrap_metadata(wrapper: Any, value: dict[str, Any]) -> None:
    assert wrapper.matches(value)
    (layer,) = wrapper.unwrap(value)
    model = wrapper.fast_model.model_validate_json(json.dumps(value))
    assert wrapper.fast_meta(model, {"MessageId": "outer"}) == {"MessageId": "outer", **layer.meta}
    assert model.record.request_id == RECORD["requestContext"]["requestId"]
    # ... and decode records that metadata whichever path it takes
    assert dict(decode(json.dumps(value))[0].meta) == dict(layer.meta)
    assert dict(decode(value)[0].meta) == dict(layer.meta)  # a parsed value: the general path


def test_sns_layer_metadata_is_the_same_for_a_notification_and_a_lambda_sns_event() -> None:
    event = {"Records": [{"EventSource": "aws:sns", "Sns": {**SNS, "Type": "Notification"}}]}
    from_event = decode(json.dumps(event))[0]
    from_notification = decode(json.dumps(SNS))[0]
    assert from_event.ok and from_notification.ok
    assert from_event.envelope == ("sns-event",)
    assert from_notification.envelope == ("sns",)
    assert {k: v for k, v in from_event.meta.items() if k != "sns-event.index"} == dict(from_notification.meta)
    assert from_event.meta["sns.Subject"] == "order failed"


def test_unwrap_reports_what_holds_no_record() -> None:
    (layer,) = EventBridgeEvent().unwrap({**EVENTBRIDGE, "source": "aws.s3"})
    assert layer.problem is not None and "not a Lambda destination event" in layer.problem
    assert layer.name == "eventbridge" and layer.meta["eventbridge.source"] == "aws.s3"
    (layer,) = LambdaEvent().unwrap({"Records": []})
    assert layer.name is None and layer.problem is not None and "empty Records" in layer.problem
    layers = list(LambdaEvent().unwrap({"Records": [3, {"eventSource": "aws:kinesis"}]}))
    assert [layer.problem for layer in layers] == [
        "Records[0] is a number, not an event record",
        "Records[1] is an event from aws:kinesis, not an execution record",
    ]
    (layer,) = JsonString().unwrap('{"a": ')
    assert layer.problem is not None and layer.problem.startswith("a JSON string holding invalid JSON")
