"""Helpers shared by the sandbox and invoke tests (their fixtures `sandbox` and `aws` are in conftest.py)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from records.sandbox import Sandbox

TIME_FACTOR = 0.005  # back-offs of 0.3 s and 0.6 s
REGION = "us-east-1"


def clients(endpoint: str) -> dict[str, Any]:
    return {
        name: boto3.client(name, endpoint_url=endpoint, region_name=REGION)
        for name in ("lambda", "sqs", "sns", "events", "s3")
    }


def subscribe_queue(aws: dict[str, Any], topic_arn: str, raw: bool = False) -> str:
    """A fresh queue subscribed to the topic (what a person would do to see the notifications)."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    url = aws["sqs"].create_queue(QueueName=name)["QueueUrl"]
    arn = aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws["sns"].subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": str(raw).lower()}
    )
    return str(url)


def receive_until(sqs: Any, url: str, match: Callable[[str], bool], timeout: float = 15.0) -> str:
    """The body of the first message in the queue that matches (deleting what it reads)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if match(message["Body"]):
                return str(message["Body"])
    raise AssertionError(f"no matching message arrived at {url} within {timeout} s")


def mentions(request_id: str) -> Callable[[str], bool]:
    return lambda body: request_id in body


def sns_message(body: str) -> dict[str, Any]:
    notification = json.loads(body)
    assert notification["Type"] == "Notification"
    return json.loads(notification["Message"])  # type: ignore[no-any-return]


def write_stack(tmp_path: Path, text: str, handlers: str) -> Path:
    (tmp_path / "handlers.py").write_text(handlers, encoding="utf-8")
    stack = tmp_path / "stack.toml"
    stack.write_text(text, encoding="utf-8")
    return stack


def process_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.05)
    return False


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def metric(box: Sandbox, function: str, name: str, stat: str = "Sum") -> float:
    """The sum (or maximum) of an AWS/Lambda metric of `function` over the last hour, from the sandbox's CloudWatch."""
    cloudwatch = boto3.client("cloudwatch", endpoint_url=box.endpoint_url, region_name=box.region)
    now = datetime.now(UTC)
    result = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": name,
                        "Dimensions": [{"Name": "FunctionName", "Value": function}],
                    },
                    "Period": 60,
                    "Stat": stat,
                },
            }
        ],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
    )
    values = result["MetricDataResults"][0]["Values"]
    return float(max(values) if stat == "Maximum" else sum(values))


def bus_queue(aws: dict[str, Any], bus: str) -> str:
    """A queue that gets every event with source `lambda` on `bus` (a rule and its target); its URL."""
    url = aws["sqs"].create_queue(QueueName=f"{bus}-target")["QueueUrl"]
    arn = aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws["events"].put_rule(Name=f"{bus}-all", EventBusName=bus, EventPattern=json.dumps({"source": ["lambda"]}))
    aws["events"].put_targets(Rule=f"{bus}-all", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return str(url)


def invoke_event(aws: dict[str, Any], function: str, payload: Any) -> str:
    """An asynchronous invoke through the sandbox's API; the request id."""
    response = aws["lambda"].invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(payload))
    return str(response["ResponseMetadata"]["RequestId"])
