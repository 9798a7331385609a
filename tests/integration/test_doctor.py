"""`lambdest-tui doctor` against the sandbox over HTTP: each fault of the stack file, a synchronous
invoke, a FIFO destination set through the API and a destination queue deleted after it was
configured make it exit 1 with a sentence naming the function, the destination and the cause; the
healthy order stack exits 0. The sandbox's own side is checked too: the deliveries really fail
(AccessDenied, KMS) and CloudWatch counts what happened."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from records.sandbox import Sandbox
from tests.integration.sandbox_helpers import TIME_FACTOR, clients, metric, write_stack
from tui.cli import main

STACK = """
[[functions]]
name = "denied"
handler = "handlers.py:fail"
maximum_retry_attempts = 0
on_failure = "queue:denied-failures"
deny = ["sqs:SendMessage"]

[[functions]]
name = "locked"
handler = "handlers.py:fail"
maximum_retry_attempts = 0
on_failure = "queue:locked-failures"

[[functions]]
name = "no-data-key"
handler = "handlers.py:fail"
maximum_retry_attempts = 0
on_failure = "queue:sealed-failures"
deny = ["kms:GenerateDataKey"]

[[functions]]
name = "sealed"
handler = "handlers.py:fail"
maximum_retry_attempts = 0
on_failure = "queue:sealed-failures"

[[functions]]
name = "lonely"
handler = "handlers.py:ok"
on_success = "topic:nobody-listens"
on_failure = "queue:spare-failures"

[[functions]]
name = "aws-only"
handler = "handlers.py:ok"
on_success = "bus:orders"
on_failure = "queue:spare-failures"

[[functions]]
name = "moved"
handler = "handlers.py:ok"
on_success = "queue:spare-out"
on_failure = "queue:spare-failures"

[[functions]]
name = "doomed"
handler = "handlers.py:ok"
on_success = "queue:doomed-out"
on_failure = "queue:spare-failures"

[[functions]]
name = "called"
handler = "handlers.py:ok"
on_success = "queue:spare-out"
on_failure = "queue:spare-failures"

[[functions]]
name = "announcer"
handler = "handlers.py:ok"
on_success = "topic:announcements"
on_failure = "queue:spare-failures"

[[keys]]
name = "locked-key"
users = []

[[keys]]
name = "open-key"

[[queues]]
name = "denied-failures"

[[queues]]
name = "locked-failures"
kms_key = "locked-key"

[[queues]]
name = "sealed-failures"
kms_key = "open-key"

[[queues]]
name = "spare-failures"

[[queues]]
name = "spare-out"

[[queues]]
name = "doomed-out"

[[queues]]
name = "ordered"
fifo = true

[[topics]]
name = "nobody-listens"

[[topics]]
name = "announcements"

[[queues]]
name = "announcements-inbox"

[[subscriptions]]
topic = "announcements"
queue = "announcements-inbox"

[[buses]]
name = "orders"

[[rules]]
bus = "orders"
name = "aws-lambda-only"
pattern = '{"source": ["aws.lambda"]}'
"""

HANDLERS = """
def ok(event, context):
    return {"ok": True}

def fail(event, context):
    raise RuntimeError("always fails")
"""


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    path = write_stack(tmp_path_factory.mktemp("faults"), STACK, HANDLERS)
    with Sandbox(path, time_factor=TIME_FACTOR) as box:
        yield box


def doctor(box: Sandbox, capsys: pytest.CaptureFixture[str], *functions: str) -> tuple[int, list[dict[str, Any]]]:
    capsys.readouterr()
    code = main(["doctor", *functions, "--format", "jsonl", "--endpoint-url", box.endpoint_url, "--region", box.region])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return code, lines


def problems(lines: list[dict[str, Any]], check: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["check"] == check and line["status"] == "problem"]


def invoke(box: Sandbox, function: str, count: int = 2, kind: str = "Event") -> None:
    lam = clients(box.endpoint_url)["lambda"]
    for n in range(count):
        lam.invoke(FunctionName=function, InvocationType=kind, Payload=json.dumps({"n": n}))
    assert box.wait_idle(30)


# -- the healthy order stack ---------------------------------------------------------------------------


def test_the_healthy_order_stack_passes(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    from records.invoke import generate_order

    lam = clients(sandbox.endpoint_url)["lambda"]
    for preset in ("good", "good", "declined"):
        lam.invoke(FunctionName="order", InvocationType="Event", Payload=json.dumps(generate_order(preset)))
    assert sandbox.wait_idle(30)
    code, lines = doctor(sandbox, capsys, "order", "update-inventory", "rollback-order")
    assert code == 0, [line for line in lines if line["status"] != "pass"]
    checks = {(line["function"], line["check"]) for line in lines}
    for check in ("invoke-config", "destination-exists", "destination-kind", "role-permission", "sync-invocations"):
        assert ("order", check) in checks
    assert ("update-inventory", "sns-subscriptions") in checks and ("order", "kms") in checks
    assert all(line["status"] == "pass" for line in lines)
    # what the sandbox published is what it did: 3 events received, one of them failed (declined)
    assert metric(sandbox, "order", "AsyncEventsReceived") == 3
    assert metric(sandbox, "order", "AsyncEventsDropped") == 1
    assert metric(sandbox, "order", "Invocations") == 3 + 2  # the declined order is tried 3 times
    assert metric(sandbox, "order", "Errors") == 3


# -- the faults of the stack file ------------------------------------------------------------------------


def test_a_role_without_sqs_send_message(faulty: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    invoke(faulty, "denied")
    reasons = [f.reason for f in faulty.stats().delivery_failures if f.function == "denied"]
    assert len(reasons) == 2 and all(r.startswith("AccessDeniedException") for r in reasons)
    assert metric(faulty, "denied", "DestinationDeliveryFailures") == 2
    code, lines = doctor(faulty, capsys, "denied")
    assert code == 1
    (role,) = problems(lines, "role-permission")
    assert role["destination"] == faulty.arn("queue", "denied-failures")
    assert "denied" in role["message"] and "denied-failures" in role["message"]
    assert "sqs:SendMessage" in role["message"] and "likely" in role["message"]
    assert "put-role-policy" in role["fix"]
    (failures,) = problems(lines, "delivery-failures")
    assert (
        failures["message"].startswith("2 record(s) of denied could not be delivered")
        and "denied-failures" in failures["message"]
    )


def test_granting_the_permission_fixes_it(faulty: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    import boto3

    iam = boto3.client("iam", endpoint_url=faulty.endpoint_url, region_name=faulty.region)
    iam.put_role_policy(
        RoleName="lambdest-sandbox-denied",
        PolicyName="fix",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "sqs:*", "Resource": faulty.arn("queue", "denied-failures")}
                ],
            }
        ),
    )
    time.sleep(1.1)  # the sandbox reads the role again after a second
    before = len(faulty.stats().delivery_failures)
    invoke(faulty, "denied", count=1)
    assert len(faulty.stats().delivery_failures) == before
    code, lines = doctor(faulty, capsys, "denied")
    assert not problems(lines, "role-permission")
    assert problems(lines, "delivery-failures")  # the earlier losses are still counted within the hour
    assert code == 1


def test_a_kms_key_whose_policy_leaves_the_role_out(faulty: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    invoke(faulty, "locked")
    reasons = [f.reason for f in faulty.stats().delivery_failures if f.function == "locked"]
    assert len(reasons) == 2 and all(r.startswith("KMS.AccessDeniedException") for r in reasons)
    code, lines = doctor(faulty, capsys, "locked")
    assert code == 1
    (kms,) = problems(lines, "kms")
    assert kms["destination"] == faulty.arn("queue", "locked-failures")
    assert "locked" in kms["message"] and "locked-failures" in kms["message"]
    assert "kms:GenerateDataKey" in kms["message"] and "kms:Decrypt" in kms["message"]
    assert not problems(lines, "role-permission")  # sqs:SendMessage itself is granted
    assert metric(faulty, "locked", "DestinationDeliveryFailures") == 2


def test_a_role_without_kms_generate_data_key(faulty: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    invoke(faulty, "no-data-key", count=1)
    reasons = [f.reason for f in faulty.stats().delivery_failures if f.function == "no-data-key"]
    assert len(reasons) == 1 and "kms:GenerateDataKey" in reasons[0]
    code, lines = doctor(faulty, capsys, "no-data-key")
    assert code == 1
    (kms,) = problems(lines, "kms")
    assert "no-data-key" in kms["message"] and "sealed-failures" in kms["message"]
    assert "kms:GenerateDataKey" in kms["message"] and "kms:Decrypt" not in kms["message"]


def test_a_key_the_role_may_use_passes(faulty: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    invoke(faulty, "sealed", count=1)
    assert not [f for f in faulty.stats().delivery_failures if f.function == "sealed"]
    code, lines = doctor(faulty, capsys, "sealed")
    assert code == 0, [line for line in lines if line["status"] != "pass"]
    (kms,) = [line for line in lines if line["check"] == "kms"]
    assert "may use KMS key" in kms["message"]


def test_a_topic_nobody_subscribes_to(faulty: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = doctor(faulty, capsys, "lonely")
    assert code == 1
    (subscriptions,) = problems(lines, "sns-subscriptions")
    assert subscriptions["destination"] == faulty.arn("topic", "nobody-listens")
    assert "lonely" in subscriptions["message"] and "nobody-listens" in subscriptions["message"]
    assert "nobody subscribes" in subscriptions["message"]


def test_a_subscribed_queue_whose_policy_leaves_the_topic_out(
    faulty: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = doctor(faulty, capsys, "announcer")
    assert code == 0, [line for line in lines if line["status"] != "pass"]  # the sandbox set the policy
    sqs = clients(faulty.endpoint_url)["sqs"]
    url = sqs.get_queue_url(QueueName="announcements-inbox")["QueueUrl"]
    other = faulty.arn("topic", "nobody-listens")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": faulty.arn("queue", "announcements-inbox"),
                "Condition": {"ArnEquals": {"aws:SourceArn": other}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    code, lines = doctor(faulty, capsys, "announcer")
    assert code == 1
    (subscriptions,) = problems(lines, "sns-subscriptions")
    assert "announcer" in subscriptions["message"] and "announcements-inbox" in subscriptions["message"]
    assert "does not admit the topic" in subscriptions["message"]


def test_a_bus_whose_rule_matches_aws_lambda_only(faulty: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = doctor(faulty, capsys, "aws-only")
    assert code == 1
    (rules,) = problems(lines, "bus-rules")
    assert rules["destination"] == faulty.arn("bus", "orders")
    assert "aws-only" in rules["message"] and "orders" in rules["message"]
    assert "aws-lambda-only" in rules["message"] and '"aws.lambda"' in rules["message"]


def test_a_fifo_destination_set_through_the_api(faulty: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = faulty.arn("queue", "ordered.fifo")
    clients(faulty.endpoint_url)["lambda"].update_function_event_invoke_config(
        FunctionName="moved", DestinationConfig={"OnSuccess": {"Destination": fifo}}
    )
    invoke(faulty, "moved", count=1)
    assert metric(faulty, "moved", "DestinationDeliveryFailures") == 1
    code, lines = doctor(faulty, capsys, "moved")
    assert code == 1
    (kind,) = problems(lines, "destination-kind")
    assert kind["destination"] == fifo and "moved" in kind["message"] and "ordered.fifo" in kind["message"]
    assert "FIFO" in kind["message"]


def test_a_destination_queue_deleted_after_configuration(faulty: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    sqs = clients(faulty.endpoint_url)["sqs"]
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName="doomed-out")["QueueUrl"])
    invoke(faulty, "doomed", count=1)
    code, lines = doctor(faulty, capsys, "doomed")
    assert code == 1
    (exists,) = problems(lines, "destination-exists")
    assert exists["destination"] == faulty.arn("queue", "doomed-out")
    assert "doomed" in exists["message"] and "doomed-out" in exists["message"] and "does not exist" in exists["message"]
    assert problems(lines, "delivery-failures")


def test_a_synchronous_invoke(faulty: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    invoke(faulty, "called", count=2, kind="RequestResponse")
    assert metric(faulty, "called", "Invocations") == 2
    assert metric(faulty, "called", "AsyncEventsReceived") == 0
    code, lines = doctor(faulty, capsys, "called")
    assert code == 1
    (sync,) = problems(lines, "sync-invocations")
    assert "called" in sync["message"] and "spare-out" in sync["message"] and "synchronously" in sync["message"]
    assert "--invocation-type Event" in sync["fix"]


def test_text_format_and_usage(faulty: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "lonely", "--endpoint-url", faulty.endpoint_url, "--region", faulty.region])
    out = capsys.readouterr().out
    assert code == 1
    assert "PROBLEM  sns-subscriptions   lonely: " in out and "fix: aws sns subscribe" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["doctor", "lonely", "--since", "soon"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["doctor"])
    assert exit_info.value.code == 2


@pytest.mark.timing
def test_one_function_under_three_seconds(faulty: Sandbox) -> None:
    import asyncio

    from records.aws_options import AwsOptions
    from records.doctor import diagnose

    options = AwsOptions(region=faulty.region, endpoint_url=faulty.endpoint_url)
    started = time.perf_counter()
    findings = asyncio.run(diagnose(["sealed"], options))
    assert time.perf_counter() - started < 3.0
    assert {f.check for f in findings} >= {"role-permission", "kms", "throttles"}


def test_stack_faults_are_validated(tmp_path: Path) -> None:
    from records.sandbox import StackError
    from records.sandbox.stack import load_stack

    bad = {
        'deny = "sqs:SendMessage"': "deny must be a list",
        'kms_key = "nope"': "is not a declared [[keys]] entry",
    }
    for line, message in bad.items():
        table = "[[functions]]" if line.startswith("deny") else "[[queues]]"
        text = (
            '[[functions]]\nname = "f"\nhandler = "handlers.py:ok"\n'
            + (line + "\n" if table == "[[functions]]" else "")
            + '[[queues]]\nname = "q"\n'
            + (line + "\n" if table == "[[queues]]" else "")
        )
        path = write_stack(tmp_path, text, HANDLERS)
        with pytest.raises(StackError, match=message.replace("[", r"\[").replace("]", r"\]")):
            load_stack(path)
