"""The stack file's [[streams]], [[tables]] and [[mappings]]: what loads, and the StackError of what does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from records.sandbox.stack import Stack, StackError, load_stack
from records.sandbox.stack_streams import MappingSpec, StreamSpec, TableSpec

BASE = """
[[functions]]
name = "processor"
handler = "records.sandbox.order_system.handlers:order"
[[queues]]
name = "failures"
[[buckets]]
name = "failure-records"
[[streams]]
name = "orders"
[[tables]]
name = "carts"
"""


def load(tmp_path: Path, extra: str) -> Stack:
    file = tmp_path / "stack.toml"
    file.write_text(BASE + extra, encoding="utf-8")
    return load_stack(file)


def test_a_full_stack_loads(tmp_path: Path) -> None:
    stack = load(
        tmp_path,
        """
[[mappings]]
function = "processor"
source = "stream:orders"
starting_position = "LATEST"
batch_size = 10
maximum_retry_attempts = 2
maximum_record_age = 3600
bisect_batch_on_function_error = true
on_failure = "bucket:failure-records"

[[mappings]]
function = "processor"
source = "table:carts"
on_failure = "arn:aws:sns:us-east-1:123456789012:elsewhere"
""",
    )
    streams = stack.streams
    assert streams.streams == (StreamSpec("orders", 1),)
    assert streams.tables == (TableSpec("carts", "pk", "NEW_AND_OLD_IMAGES"),)
    assert streams.mappings[0] == MappingSpec(
        "processor", "stream:orders", "LATEST", 10, 2, 3600, True, "arn:aws:s3:::failure-records", True
    )
    assert streams.mappings[1].maximum_retry_attempts == -1 and streams.mappings[1].maximum_record_age == -1
    assert streams.destinations("processor") == [
        "arn:aws:s3:::failure-records",
        "arn:aws:sns:us-east-1:123456789012:elsewhere",
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[[mappings]]\nfunction = "nope"\nsource = "stream:orders"',
            r"mappings\[0\]: function 'nope' is not a declared",
        ),
        ('[[mappings]]\nfunction = "processor"\nsource = "stream:missing"', "must be stream:NAME or table:NAME"),
        (
            '[[mappings]]\nfunction = "processor"\nsource = "arn:aws:sqs:us-east-1:123456789012:q"',
            "is not a Kinesis or DynamoDB stream ARN",
        ),
        (
            '[[mappings]]\nfunction = "processor"\nsource = "stream:orders"\nmaximum_record_age = 30',
            r"maximum_record_age must be -1 \(forever\) or 60-604800 seconds",
        ),
        (
            '[[mappings]]\nfunction = "processor"\nsource = "stream:orders"\nmaximum_retry_attempts = 10001',
            r"maximum_retry_attempts must be a whole number \(-1: forever\) -1-10000",
        ),
        ('[[mappings]]\nfunction = "processor"\nsource = "stream:orders"\nbatch_size = 0', "batch_size must be"),
        (
            '[[mappings]]\nfunction = "processor"\nsource = "stream:orders"\nstarting_position = "AT_TIMESTAMP"',
            "starting_position must be TRIM_HORIZON or LATEST",
        ),
        (
            '[[mappings]]\nfunction = "processor"\nsource = "stream:orders"\non_failure = "function:processor"',
            "on_failure must be an SQS queue, an SNS topic or an S3 bucket",
        ),
        ('[[mappings]]\nfunction = "processor"\nsource = "stream:orders"\nparallel = 2', "unknown key 'parallel'"),
        ('[[streams]]\nname = "more"\nshards = 0', r"streams\[1\]: shards must be a whole number 1-16"),
        ('[[tables]]\nname = "t2"', r"tables\[1\]: name 't2' must be 3-255"),
        ('[[tables]]\nname = "tab"\nstream_view = "ALL"', "stream_view must be one of KEYS_ONLY"),
    ],
)
def test_bad_entries_are_refused_with_where_and_why(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(StackError, match=message) as error:
        load(tmp_path, extra)
    assert str(tmp_path / "stack.toml") in str(error.value)
