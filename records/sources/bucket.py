"""An S3 failure destination as a live, read-only source (moved from records/invoke.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from records.aws_options import AwsOptions
from records.decode import decode
from records.lines import iso_timestamp
from records.message import Message
from records.sources.base import Mode, SourceEvent, SourceStatus, State

__all__ = ["BucketPoller"]


def _reason(exc: ClientError | BotoCoreError, bucket: str) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"reading s3 bucket {bucket} failed: {error.get('Code', 'Error')}: {error.get('Message', '')}"
    return f"reading s3 bucket {bucket} failed: {exc}"


class BucketPoller:
    """An S3 failure destination as a read-only source: polls for new objects under Lambda's key
    layout `aws/lambda/async/<function>/YYYY/MM/DD/...` (keys sort by time, so it lists only keys
    after the moment it started) and yields each object as a Message.

    With `mappings`, it also polls the layout of event source mappings' stream-failure records,
    `aws/lambda/<mapping-uuid>/<shard-id>/YYYY/MM/DD/...` (every mapping's and shard's prefix found
    in the bucket, each listed after the moment it started, as above).

    A `Source` labelled "bucket:<bucket>", in mode "peek" (nothing is deleted). `functions`: the
    function names whose key prefixes are listed; `interval`: seconds between two listings.
    """

    def __init__(
        self,
        bucket: str,
        functions: Sequence[str],
        aws: AwsOptions,
        interval: float = 0.5,
        mappings: bool = False,
    ) -> None:
        self.bucket = bucket
        self.functions = list(functions)
        self.aws = aws
        self.interval = interval
        self.mappings = mappings
        self.label = f"bucket:{bucket}"
        self.mode: Mode = "peek"
        self._stack = contextlib.AsyncExitStack()
        self._closed = False

    def _status(self, state: State, reason: str | None = None) -> SourceStatus:
        return SourceStatus(self.label, self.mode, state, reason)

    async def __aiter__(self) -> AsyncIterator[SourceEvent]:
        yield self._status("connecting")
        since = datetime.now(UTC) - timedelta(seconds=5)  # some slack for clock skew
        after = {
            f"aws/lambda/async/{fn}/": f"aws/lambda/async/{fn}/{since:%Y/%m/%d}/{since:%Y-%m-%dT%H.%M.%S}"
            for fn in self.functions
        }
        live = False
        try:
            client = await self._stack.enter_async_context(
                self.aws.session().create_client("s3", **self.aws.client_kwargs())
            )
            while not self._closed:
                if self.mappings:
                    await self._find_shards(client, after, since)
                for prefix, start in list(after.items()):
                    listed = await client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, StartAfter=start)
                    for item in listed.get("Contents", []):
                        key = str(item["Key"])
                        after[prefix] = max(after[prefix], key)
                        obj = await client.get_object(Bucket=self.bucket, Key=key)
                        async with obj["Body"] as stream:
                            raw = (await stream.read()).decode("utf-8", "replace")
                        meta = {"Bucket": self.bucket, "Key": key}
                        received = iso_timestamp(datetime.now(UTC))
                        yield Message(raw, self.label, received, meta, tuple(decode(raw, meta=meta)))
                if not live:
                    live = True
                    yield self._status("live")
                await asyncio.sleep(self.interval)
        except (ClientError, BotoCoreError) as exc:
            yield self._status("failed", _reason(exc, self.bucket))

    async def _find_shards(self, client: Any, after: dict[str, str], since: datetime) -> None:
        """Add the prefix of every mapping's shard in the bucket to `after` (stream-failure records)."""
        for mapping in await self._folders(client, "aws/lambda/"):
            if mapping == "aws/lambda/async/":
                continue
            for shard in await self._folders(client, mapping):
                after.setdefault(shard, f"{shard}{since:%Y/%m/%d}/{since:%Y-%m-%dT%H.%M.%S}")

    async def _folders(self, client: Any, prefix: str) -> list[str]:
        listed = await client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, Delimiter="/")
        return [str(item["Prefix"]) for item in listed.get("CommonPrefixes", [])]

    async def aclose(self) -> None:
        self._closed = True
        await self._stack.aclose()
