"""Event source mappings from Kinesis data streams and DynamoDB Streams, polled as Lambda polls them.

Each enabled mapping reads every shard of its stream from moto (GetShardIterator / GetRecords,
every POLL_SECONDS when a shard has nothing new), one batch at a time per shard, and invokes the
function synchronously (`Runtime.run_once`) with AWS's event: {"Records": [...]} in the Kinesis or
DynamoDB Streams shape ("Using Lambda with Kinesis", "Using Lambda with DynamoDB").

On a function error (AWS: "Retain discarded batch records for a Kinesis Data Streams event source"):
- BisectBatchOnFunctionError splits the failed batch in two and processes each half, in order;
  splitting does not consume the retry quota;
- otherwise the batch is retried after a back-off (STREAM_BACKOFF seconds, doubling, scaled by the
  time factor) until MaximumRetryAttempts (-1: forever) is reached -> condition RetryAttemptsExhausted;
- records older than MaximumRecordAgeInSeconds (-1: forever; scaled by the time factor) are dropped
  before an invocation -> condition RecordAgeExceeded;
- discarded records are described by one failure record (requestContext, responseContext, version,
  timestamp, KinesisBatchInfo / DDBStreamBatchInfo; for S3 also `payload`, the whole event as a JSON
  string, under aws/lambda/<mapping-uuid>/<shard-id>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>) sent to
  the mapping's on-failure destination through `Delivery`, and the shard moves on.

A function with reserved concurrency 0 is throttled: the batch waits (no retry consumed) until its
records are too old. Shards are read once when the mapping starts (no resharding); shards are
processed concurrently, one batch at a time each (ParallelizationFactor 1).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from records.sandbox.permissions import ACTIONS, resource, role_name
from records.sandbox.runtime import Outcome, Runtime, now_iso
from records.sandbox.stack import Stack

if TYPE_CHECKING:
    from records.sandbox.delivery import Delivery

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1  # real time between reads of a shard that had nothing new
STREAM_BACKOFF = (1.0, 60.0)  # first back-off and cap (AWS seconds, doubled per retry, scaled)
THROTTLE_BACKOFF = 1.0  # AWS seconds between tries of a throttled batch (scaled)
PROBLEM_SECONDS = 1.0  # real time before reading a shard again after the read failed


def stream_arn(stack: Stack, name: str) -> str:
    """The ARN of a Kinesis data stream of the stack's account and region."""
    return f"arn:aws:kinesis:{stack.region}:{stack.account}:stream/{name}"


def _millis(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _seconds(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Mapping:
    """One event source mapping (EventSourceMappingConfiguration), and its pollers' state."""

    uuid: str
    function: str  # the function's name
    function_arn: str  # as the mapping names it (unqualified, or qualified with $LATEST)
    source_arn: str
    starting_position: str
    batch_size: int = 100
    maximum_retry_attempts: int = -1
    maximum_record_age: int = -1
    bisect: bool = False
    on_failure: str | None = None
    enabled: bool = True
    batching_window: int = 0
    starting_timestamp: float | None = None
    state: str = "Creating"
    last_modified: float = field(default_factory=time.time)
    last_result: str = "No records processed"
    iterators: dict[str, str | None] = field(default_factory=dict)  # shard id -> where to read next
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """ "kinesis" or "dynamodb"."""
        return self.source_arn.split(":")[2]

    @property
    def arn(self) -> str:
        region, account = self.function_arn.split(":")[3:5]
        return f"arn:aws:lambda:{region}:{account}:event-source-mapping:{self.uuid}"

    def to_api(self, state: str | None = None) -> dict[str, Any]:
        """The EventSourceMappingConfiguration AWS answers (fields as AWS-recorded responses show them)."""
        body: dict[str, Any] = {
            "UUID": self.uuid,
            "StartingPosition": self.starting_position,
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.batching_window,
            "ParallelizationFactor": 1,
            "EventSourceArn": self.source_arn,
            "FunctionArn": self.function_arn,
            "LastModified": self.last_modified,
            "LastProcessingResult": self.last_result,
            "State": state or self.state,
            "StateTransitionReason": "User action",
            "DestinationConfig": {"OnFailure": {"Destination": self.on_failure} if self.on_failure else {}},
            "MaximumRecordAgeInSeconds": self.maximum_record_age,
            "BisectBatchOnFunctionError": self.bisect,
            "MaximumRetryAttempts": self.maximum_retry_attempts,
            "TumblingWindowInSeconds": 0,
            "FunctionResponseTypes": [],
            "EventSourceMappingArn": self.arn,
        }
        if self.starting_timestamp is not None:
            body["StartingPositionTimestamp"] = self.starting_timestamp
        return body


@dataclass(slots=True)
class Item:
    """A stream record as the function's event holds it, with what the failure record needs."""

    event: dict[str, Any]
    sequence: str
    arrival: float  # epoch seconds


@dataclass(slots=True)
class StreamStats:
    invocations: int = 0
    failures: int = 0  # failure records sent (or attempted) for discarded batches
    discarded: int = 0  # records discarded


class StreamPollers:
    """The sandbox's event source mappings: created from the stack and the API, polled here."""

    def __init__(
        self,
        stack: Stack,
        runtime: Runtime,
        delivery: Delivery | None,
        clients: dict[str, Any],
        moto_url: str,
        time_factor: float,
    ) -> None:
        self.stack = stack
        self.runtime = runtime
        self.delivery = delivery
        self.clients = clients  # the sandbox's clients ("iam"...); kinesis/dynamodb ones are made on first use
        self.moto_url = moto_url
        self.time_factor = time_factor
        self.mappings: dict[str, Mapping] = {}
        self.stats = StreamStats()
        self._exit = contextlib.AsyncExitStack()
        self._lock = asyncio.Lock()

    # -- clients, made when a stream is first used (the sandbox starts without them) ----------------

    async def client(self, service: str) -> Any:
        """An aiobotocore client of moto for kinesis, dynamodb or dynamodbstreams."""
        async with self._lock:
            if service not in self.clients:
                from aiobotocore.config import AioConfig
                from aiobotocore.session import get_session

                session: Any = get_session()
                self.clients[service] = await self._exit.enter_async_context(
                    session.create_client(
                        service,
                        region_name=self.stack.region,
                        endpoint_url=self.moto_url,
                        aws_access_key_id="testing",
                        aws_secret_access_key="testing",
                        config=AioConfig(retries={"max_attempts": 2, "mode": "standard"}),
                    )
                )
            return self.clients[service]

    async def close(self) -> None:
        for mapping in list(self.mappings.values()):
            await self.pause(mapping)
        await self._exit.aclose()

    # -- the stack's streams, tables and mappings -------------------------------------------------

    async def create_stack(self) -> None:
        """Create the stack's streams and tables in moto, grant each function's role its mappings'
        destinations, and start the stack's mappings."""
        spec = self.stack.streams
        if not (spec.streams or spec.tables or spec.mappings):
            return
        arns: dict[str, str] = {}
        for stream in spec.streams:
            kinesis = await self.client("kinesis")
            await kinesis.create_stream(StreamName=stream.name, ShardCount=stream.shards)
            arns[f"stream:{stream.name}"] = stream_arn(self.stack, stream.name)
        for table in spec.tables:
            dynamodb = await self.client("dynamodb")
            created = await dynamodb.create_table(
                TableName=table.name,
                KeySchema=[{"AttributeName": table.key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": table.key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True, "StreamViewType": table.stream_view},
            )
            arns[f"table:{table.name}"] = created["TableDescription"]["LatestStreamArn"]
        for function in self.stack.functions:
            await self._grant(function.name, function.deny)
        for item in spec.mappings:
            mapping = Mapping(
                uuid=str(uuid.uuid4()),
                function=item.function,
                function_arn=self.stack.function_arn(item.function),
                source_arn=arns.get(item.source, item.source),
                starting_position=item.starting_position,
                batch_size=item.batch_size,
                maximum_retry_attempts=item.maximum_retry_attempts,
                maximum_record_age=item.maximum_record_age,
                bisect=item.bisect_batch_on_function_error,
                on_failure=item.on_failure,
                enabled=item.enabled,
            )
            self.add(mapping)

    async def _grant(self, function: str, deny: tuple[str, ...]) -> None:
        statements = []
        for destination in self.stack.streams.destinations(function):
            service = destination.split(":")[2]
            if ACTIONS.get(service) and ACTIONS[service] not in deny:
                statements.append(
                    {"Effect": "Allow", "Action": [ACTIONS[service]], "Resource": resource(service, destination)}
                )
        if statements and "iam" in self.clients:
            await self.clients["iam"].put_role_policy(
                RoleName=role_name(function),
                PolicyName="event-source-mappings",
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
            )

    # -- lifecycle of a mapping -------------------------------------------------------------------

    def add(self, mapping: Mapping) -> None:
        self.mappings[mapping.uuid] = mapping
        if mapping.enabled:
            self.resume(mapping)
        else:
            mapping.state = "Disabled"

    def resume(self, mapping: Mapping) -> None:
        mapping.tasks = [task for task in mapping.tasks if not task.done()]  # a poller that stopped on a problem
        if not mapping.tasks:
            mapping.tasks.append(asyncio.create_task(self._run(mapping), name=f"esm-{mapping.uuid}"))

    async def pause(self, mapping: Mapping) -> None:
        tasks, mapping.tasks = mapping.tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def remove(self, mapping: Mapping) -> None:
        self.mappings.pop(mapping.uuid, None)
        await self.pause(mapping)

    async def settle(self, mapping: Mapping, enabled: bool) -> None:
        """After an update: start or stop the pollers as `enabled` says."""
        mapping.enabled = enabled
        if enabled:
            if not any(not task.done() for task in mapping.tasks):
                mapping.state = "Enabling"
                self.resume(mapping)
            else:
                mapping.state = "Enabled"
        else:
            await self.pause(mapping)
            mapping.state = "Disabled"

    # -- polling ----------------------------------------------------------------------------------

    async def _run(self, mapping: Mapping) -> None:
        try:
            if not mapping.iterators:
                for shard in await self._shards(mapping):
                    mapping.iterators[shard] = await self._iterator(mapping, shard)
            shards = [
                asyncio.create_task(self._poll(mapping, shard), name=f"esm-{mapping.uuid}-{shard}")
                for shard in mapping.iterators
            ]
            mapping.state = "Enabled"
            try:
                await asyncio.gather(*shards)
            finally:
                for task in shards:
                    task.cancel()
                await asyncio.gather(*shards, return_exceptions=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("sandbox: event source mapping %s stopped", mapping.uuid)
            mapping.state = "Disabled"
            mapping.last_result = f"PROBLEM: {type(exc).__name__}: {exc}"

    async def _shards(self, mapping: Mapping) -> list[str]:
        if mapping.kind == "kinesis":
            kinesis = await self.client("kinesis")
            described = await kinesis.describe_stream(StreamARN=mapping.source_arn)
        else:
            streams = await self.client("dynamodbstreams")
            described = await streams.describe_stream(StreamArn=mapping.source_arn)
        return [str(shard["ShardId"]) for shard in described["StreamDescription"]["Shards"]]

    async def _iterator(self, mapping: Mapping, shard: str) -> str | None:
        if mapping.kind == "kinesis":
            kinesis = await self.client("kinesis")
            extra: dict[str, Any] = {}
            if mapping.starting_position == "AT_TIMESTAMP" and mapping.starting_timestamp is not None:
                extra["Timestamp"] = datetime.fromtimestamp(mapping.starting_timestamp, UTC)
            response = await kinesis.get_shard_iterator(
                StreamARN=mapping.source_arn, ShardId=shard, ShardIteratorType=mapping.starting_position, **extra
            )
        else:
            streams = await self.client("dynamodbstreams")
            response = await streams.get_shard_iterator(
                StreamArn=mapping.source_arn, ShardId=shard, ShardIteratorType=mapping.starting_position
            )
        iterator = response.get("ShardIterator")
        return str(iterator) if iterator else None

    async def _poll(self, mapping: Mapping, shard: str) -> None:
        while mapping.iterators.get(shard):
            iterator = mapping.iterators[shard]
            try:
                if mapping.kind == "kinesis":
                    kinesis = await self.client("kinesis")
                    response = await kinesis.get_records(
                        StreamARN=mapping.source_arn, ShardIterator=iterator, Limit=mapping.batch_size
                    )
                    items = [self._kinesis_item(mapping, shard, record) for record in response.get("Records", [])]
                else:
                    streams = await self.client("dynamodbstreams")
                    response = await streams.get_records(ShardIterator=iterator, Limit=mapping.batch_size)
                    items = [self._dynamodb_item(mapping, record) for record in response.get("Records", [])]
            except (ClientError, BotoCoreError) as exc:  # a deleted stream, moto busy: try again, as Lambda does
                mapping.last_result = f"PROBLEM: {exc}"
                await asyncio.sleep(PROBLEM_SECONDS)
                continue
            if items:
                await self._batch(mapping, shard, items, retries=0)
                mapping.last_result = "OK"
            # The shard moves on only once its batch is done (processed or discarded).
            mapping.iterators[shard] = response.get("NextShardIterator")
            if not items:
                await asyncio.sleep(POLL_SECONDS)

    def _kinesis_item(self, mapping: Mapping, shard: str, record: dict[str, Any]) -> Item:
        arrival = record["ApproximateArrivalTimestamp"].timestamp()
        sequence = str(record["SequenceNumber"])
        event = {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": record["PartitionKey"],
                "sequenceNumber": sequence,
                "data": base64.b64encode(record["Data"]).decode(),
                "approximateArrivalTimestamp": round(arrival, 3),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard}:{sequence}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": self.stack.role_arn(mapping.function),
            "awsRegion": self.stack.region,
            "eventSourceARN": mapping.source_arn,
        }
        return Item(event, sequence, arrival)

    def _dynamodb_item(self, mapping: Mapping, record: dict[str, Any]) -> Item:
        data = dict(record["dynamodb"])
        created = data.get("ApproximateCreationDateTime")
        arrival = created.timestamp() if isinstance(created, datetime) else time.time()
        data["ApproximateCreationDateTime"] = int(arrival)  # Lambda's event carries epoch seconds
        event = {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": "1.1",  # what Lambda's DynamoDB events carry (AWS-recorded events)
            "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", self.stack.region),
            "dynamodb": data,
            "eventSourceARN": mapping.source_arn,
        }
        return Item(event, str(data.get("SequenceNumber", "")), arrival)

    # -- a batch: invoke, bisect, retry, discard ------------------------------------------------------

    async def _batch(self, mapping: Mapping, shard: str, items: list[Item], retries: int) -> None:
        attempts = 0
        last: Outcome | None = None
        request_id: str | None = None
        while items:
            function = self.runtime.function(mapping.function)
            if function is None:  # cannot happen with the stack's functions; keep the shard moving
                return
            if mapping.maximum_record_age != -1:
                limit = mapping.maximum_record_age * self.time_factor
                now = time.time()
                expired = [item for item in items if now - item.arrival >= limit]
                if expired:
                    await self._discard(mapping, shard, expired, "RecordAgeExceeded", attempts, last, request_id)
                    items = [item for item in items if item not in expired]
                    continue
            if function.spec.reserved_concurrency == 0:  # throttled before the invocation: wait, no retry used
                self.runtime.count(function, "Throttles")
                await asyncio.sleep(THROTTLE_BACKOFF * self.time_factor)
                continue
            request_id = str(uuid.uuid4())
            attempts += 1
            self.stats.invocations += 1
            last = await self.runtime.run_once(function, {"Records": [item.event for item in items]}, request_id)
            if last.ok:
                return
            if mapping.bisect and len(items) > 1:
                half = (len(items) + 1) // 2
                await self._batch(mapping, shard, items[:half], retries)
                await self._batch(mapping, shard, items[half:], retries)
                return
            if mapping.maximum_retry_attempts != -1 and retries >= mapping.maximum_retry_attempts:
                await self._discard(mapping, shard, items, "RetryAttemptsExhausted", attempts, last, request_id)
                return
            retries += 1
            delay = min(STREAM_BACKOFF[0] * 2 ** (retries - 1), STREAM_BACKOFF[1]) * self.time_factor
            await asyncio.sleep(delay)

    async def _discard(
        self,
        mapping: Mapping,
        shard: str,
        items: list[Item],
        condition: str,
        attempts: int,
        last: Outcome | None,
        request_id: str | None,
    ) -> None:
        self.stats.discarded += len(items)
        function = self.runtime.function(mapping.function)
        destination = mapping.on_failure
        if function is None or not destination:
            return
        record = failure_record(mapping, shard, items, condition, attempts, last, request_id)
        if destination.split(":")[2] == "s3":
            record["payload"] = json.dumps({"Records": [item.event for item in items]})
        self.stats.failures += 1
        if self.delivery is not None:  # to S3: aws/lambda/<mapping-uuid>/<shard-id>/YYYY/MM/DD/...
            await self.delivery(destination, record, function, prefix=f"aws/lambda/{mapping.uuid}/{shard}")


def failure_record(
    mapping: Mapping,
    shard: str,
    items: list[Item],
    condition: str,
    attempts: int,
    last: Outcome | None,
    request_id: str | None,
) -> dict[str, Any]:
    """The record Lambda sends for a discarded batch (AWS docs' "Example Amazon SNS and Amazon SQS
    invocation record"; a batch discarded before any invocation has a null responseContext)."""
    stamp = _millis if mapping.kind == "kinesis" else _seconds  # DynamoDB's arrivals have no milliseconds
    response: dict[str, Any] | None = None
    if last is not None:
        response = {"statusCode": last.status_code, "executedVersion": "$LATEST", "functionError": last.function_error}
    return {
        "requestContext": {
            "requestId": request_id or str(uuid.uuid4()),
            "functionArn": mapping.function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": now_iso(),
        "KinesisBatchInfo" if mapping.kind == "kinesis" else "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": items[0].sequence,
            "endSequenceNumber": items[-1].sequence,
            "approximateArrivalOfFirstRecord": stamp(items[0].arrival),
            "approximateArrivalOfLastRecord": stamp(items[-1].arrival),
            "batchSize": len(items),
            "streamArn": mapping.source_arn,
        },
    }


__all__ = ["Mapping", "StreamPollers", "failure_record", "stream_arn"]
