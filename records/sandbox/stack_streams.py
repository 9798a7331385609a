"""The stack file's streams: Kinesis data streams, DynamoDB tables with a stream, and the event
source mappings that feed them to functions (`streams.py` runs them).

    [[streams]]                      # a Kinesis data stream in moto
    name = "orders"
    shards = 1                       # optional, 1-16 (default 1)

    [[tables]]                       # a DynamoDB table (on-demand) with a stream
    name = "orders"
    key = "id"                       # optional: its string partition key (default "pk")
    stream_view = "NEW_AND_OLD_IMAGES"   # optional: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES

    [[mappings]]                     # an event source mapping
    function = "processor"
    source = "stream:orders"         # stream:NAME, table:NAME, or a Kinesis / DynamoDB stream ARN
    starting_position = "TRIM_HORIZON"   # or LATEST (default TRIM_HORIZON)
    batch_size = 100                 # 1-10000 (default 100)
    maximum_retry_attempts = 2       # -1 (forever, the default) to 10000
    maximum_record_age = 3600        # -1 (forever, the default) or 60-604800 s (scaled by the time factor)
    bisect_batch_on_function_error = true
    on_failure = "queue:stream-failures" # queue:NAME, topic:NAME, bucket:NAME or an SQS/SNS/S3 ARN
    enabled = true

The function's role is allowed to send to its mappings' on-failure destinations (minus `deny`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STREAM_VIEWS = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST")
FAILURE_SERVICES = ("sqs", "sns", "s3")  # what a Kinesis / DynamoDB mapping sends discarded batches to
_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")
_MAPPING_KEYS = {
    "function",
    "source",
    "starting_position",
    "batch_size",
    "maximum_retry_attempts",
    "maximum_record_age",
    "bisect_batch_on_function_error",
    "on_failure",
    "enabled",
}


class StreamStackError(ValueError):
    """A streams entry is not valid; the message says where and why (raised as StackError)."""


@dataclass(frozen=True, slots=True)
class StreamSpec:
    name: str
    shards: int = 1


@dataclass(frozen=True, slots=True)
class TableSpec:
    name: str
    key: str = "pk"
    stream_view: str = "NEW_AND_OLD_IMAGES"


@dataclass(frozen=True, slots=True)
class MappingSpec:
    function: str
    source: str  # "stream:NAME", "table:NAME" or an ARN
    starting_position: str = "TRIM_HORIZON"
    batch_size: int = 100
    maximum_retry_attempts: int = -1
    maximum_record_age: int = -1
    bisect_batch_on_function_error: bool = False
    on_failure: str | None = None  # an ARN
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Streams:
    streams: tuple[StreamSpec, ...] = ()
    tables: tuple[TableSpec, ...] = ()
    mappings: tuple[MappingSpec, ...] = ()

    def destinations(self, function: str) -> list[str]:
        """The on-failure destinations of the function's mappings (its role may send there)."""
        return [m.on_failure for m in self.mappings if m.function == function and m.on_failure]


def _int(entry: dict[str, Any], key: str, default: int, low: int, high: int, where: str, also: str = "") -> int:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise StreamStackError(f"{where}: {key} must be a whole number {also}{low}-{high}")
    return value


def _entries(data: dict[str, Any], key: str, file: Path) -> list[dict[str, Any]]:
    entries = data.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise StreamStackError(f"{file}: [[{key}]] must be a list of tables")
    return entries


def parse_streams(
    data: dict[str, Any],
    file: Path,
    functions: Collection[str],
    destination_arn: Callable[[str, str], str],
) -> Streams:
    """The [[streams]], [[tables]] and [[mappings]] entries; `destination_arn(value, where)` turns
    kind:name into an ARN (raising StackError)."""
    streams: list[StreamSpec] = []
    for index, entry in enumerate(_entries(data, "streams", file)):
        where = f"{file}: streams[{index}]"
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise StreamStackError(f"{where}: name {name!r} must be 1-128 letters, digits, _ . or -")
        streams.append(StreamSpec(name, _int(entry, "shards", 1, 1, 16, where)))
    tables: list[TableSpec] = []
    for index, entry in enumerate(_entries(data, "tables", file)):
        where = f"{file}: tables[{index}]"
        name, key = entry.get("name"), entry.get("key", "pk")
        if not isinstance(name, str) or not (3 <= len(name) <= 255) or not _NAME.match(name[:128]):
            raise StreamStackError(f"{where}: name {name!r} must be 3-255 letters, digits, _ . or -")
        if not isinstance(key, str) or not key:
            raise StreamStackError(f"{where}: key must be the name of the string partition key")
        view = entry.get("stream_view", "NEW_AND_OLD_IMAGES")
        if view not in STREAM_VIEWS:
            raise StreamStackError(f"{where}: stream_view must be one of {', '.join(STREAM_VIEWS)}")
        tables.append(TableSpec(name, key, view))
    names = {"stream": {s.name for s in streams}, "table": {t.name for t in tables}}
    mappings: list[MappingSpec] = []
    for index, entry in enumerate(_entries(data, "mappings", file)):
        where = f"{file}: mappings[{index}]"
        unknown = sorted(set(entry) - _MAPPING_KEYS)
        if unknown:
            raise StreamStackError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_MAPPING_KEYS))})")
        function = entry.get("function")
        if not isinstance(function, str) or function not in functions:
            raise StreamStackError(f"{where}: function {function!r} is not a declared [[functions]] entry")
        source = entry.get("source")
        if not isinstance(source, str):
            raise StreamStackError(f'{where}: source must be "stream:NAME", "table:NAME" or a stream ARN')
        kind, sep, name = source.partition(":")
        if source.startswith("arn:"):
            service = source.split(":")[2] if source.count(":") >= 5 else ""
            if service not in ("kinesis", "dynamodb") or "stream/" not in source:
                raise StreamStackError(f"{where}: source {source!r} is not a Kinesis or DynamoDB stream ARN")
        elif not sep or kind not in names or name not in names[kind]:
            raise StreamStackError(
                f"{where}: source {source!r} must be stream:NAME or table:NAME of a declared [[streams]] or "
                "[[tables]] entry, or a stream ARN"
            )
        position = entry.get("starting_position", "TRIM_HORIZON")
        if position not in STARTING_POSITIONS:
            raise StreamStackError(f"{where}: starting_position must be TRIM_HORIZON or LATEST")
        age = entry.get("maximum_record_age", -1)
        if isinstance(age, bool) or not isinstance(age, int) or not (age == -1 or 60 <= age <= 604800):
            raise StreamStackError(f"{where}: maximum_record_age must be -1 (forever) or 60-604800 seconds")
        on_failure = entry.get("on_failure")
        if on_failure is not None:
            if not isinstance(on_failure, str):
                raise StreamStackError(f"{where}: on_failure must be queue:NAME, topic:NAME, bucket:NAME or an ARN")
            on_failure = destination_arn(on_failure, f"{where}.on_failure")
            if on_failure.split(":")[2] not in FAILURE_SERVICES:
                raise StreamStackError(f"{where}: on_failure must be an SQS queue, an SNS topic or an S3 bucket")
        for flag in ("bisect_batch_on_function_error", "enabled"):
            if not isinstance(entry.get(flag, False), bool):
                raise StreamStackError(f"{where}: {flag} must be true or false")
        mappings.append(
            MappingSpec(
                function=function,
                source=source,
                starting_position=position,
                batch_size=_int(entry, "batch_size", 100, 1, 10000, where),
                maximum_retry_attempts=_int(entry, "maximum_retry_attempts", -1, -1, 10000, where, "(-1: forever) "),
                maximum_record_age=age,
                bisect_batch_on_function_error=entry.get("bisect_batch_on_function_error", False),
                on_failure=on_failure,
                enabled=entry.get("enabled", True),
            )
        )
    return Streams(tuple(streams), tuple(tables), tuple(mappings))
