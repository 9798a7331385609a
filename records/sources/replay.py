"""Saved record files (and S3 prefixes) as a source, instantly or with their original timing."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from records.aws_options import AwsOptions
from records.decode import DEFAULT_CORRELATOR, Correlator, Decoded, decode
from records.files import RawItem, iter_entries, now_iso, read_entry
from records.message import Message
from records.sources.base import FactsBatch, Mode, SourceEvent, SourceStatus, State
from records.sources.faults import Backoff, SourceFailed, classify
from records.sources.file_messages import message_from_item
from records.sources.sqs import RETRYABLE

if TYPE_CHECKING:
    from records.sources.replay_worker import FactsProcess

__all__ = ["ReplaySource", "split_s3_url"]


def split_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> (`bucket`, `some/prefix`)."""
    rest = url[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"{url!r} names no bucket (expected s3://bucket/prefix)")
    return bucket, prefix


def _when(item_received: str | None, decoded: Sequence[Decoded]) -> datetime | None:
    if item_received:
        try:
            return datetime.fromisoformat(item_received.replace("Z", "+00:00"))
        except ValueError:
            pass
    for entry in decoded:
        if entry.record is not None:
            return entry.record.timestamp
    return None


Timed = tuple[Message, datetime | None]


def _read_batch(
    items: Iterator[tuple[RawItem, Path]], size: int, correlator: Correlator, timed: bool = True
) -> list[Timed]:
    """Read and decode up to `size` items (runs in a worker thread), with when each was received
    (None for all when not `timed`: an instant replay does not need it). Messages without a
    received time of their own get the time the batch was read."""
    batch: list[Timed] = []
    received = now_iso()
    files: dict[Path, str] = {}  # one string per file, not one per message
    for item, path in items:
        file = files.get(path)
        if file is None:
            file = files[path] = str(path)
        message = message_from_item(item, path, correlator, received, file)
        batch.append((message, _when(item.received, message.decoded) if timed else None))
        if len(batch) >= size:
            break
    return batch


def _file_items(path: str) -> Iterator[tuple[RawItem, Path]]:
    for entry in iter_entries([path]):
        for item in read_entry(entry):
            yield item, entry.path


S3_ATTEMPTS = 6  # tries of an S3 call (with the source's back-off) before the replay fails


class ReplaySource:
    """Saved records as a `records.sources.base.Source` (mode "replay").

    `paths` are files, folders (read as `records.files.read_inputs` reads them) and
    `s3://bucket/prefix` URLs (every object under the prefix, as the S3 failure destination writes
    them: one record per object, .gz allowed). `speed=None` replays as fast as possible; `speed=2.0`
    keeps the original gaps between messages (their `received` time in session files, else the
    record's timestamp) halved. Yields `live`, the `Message`s (with file/offset/length of plain
    JSON Lines files, so a payload can be re-read with `records.files.read_at`), then `done` (or
    `failed` + reason). `facts=True` (instant replays only): local files are read and decoded in a
    worker process (records.sources.replay_worker) and arrive as `FactsBatch` events instead of
    `Message`s; a seekable message's raw text is then not sent along (it is re-read from its file).
    """

    s3_page_size = 1000  # keys listed a request (S3's maximum)

    def __init__(
        self,
        paths: Sequence[str],
        *,
        speed: float | None = None,
        aws: AwsOptions | None = None,
        correlator: Correlator = DEFAULT_CORRELATOR,
        batch: int = 500,
        facts: bool = False,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("--speed must be greater than 0")
        self.paths = list(paths)
        self.speed = speed
        self.aws = aws or AwsOptions()
        self.correlator = correlator
        self.batch = batch
        self.facts = facts and speed is None
        self.mode: Mode = "replay"
        first = self.paths[0] if self.paths else "(nothing)"
        more = f" (+{len(self.paths) - 1})" if len(self.paths) > 1 else ""
        self.label = f"replay:{first}{more}"
        self._previous: datetime | None = None
        self._stack = AsyncExitStack()
        # The worker for the first local path starts now: it imports and reads while the caller
        # (the UI) starts up.
        self._early: FactsProcess | None = None
        if self.facts and self.paths and not first.startswith("s3://") and Path(first).exists():
            from records.sources.replay_worker import FactsProcess  # it imports this module

            self._early = FactsProcess(first, self.correlator, self.batch)
            self._early.start()

    def _status(self, state: State, reason: str | None = None) -> SourceStatus:
        return SourceStatus(self.label, self.mode, state, reason)

    async def _pace(self, when: datetime | None) -> None:
        if self.speed is None or when is None:
            return
        if self._previous is not None:
            gap = (when - self._previous).total_seconds() / self.speed
            if gap > 0:
                await asyncio.sleep(gap)
        self._previous = when

    async def __aiter__(self) -> AsyncIterator[SourceEvent]:
        yield self._status("live")
        for path in self.paths:
            if path.startswith("s3://"):
                try:
                    async for message in self._s3(path):
                        await self._pace(_when(None, message.decoded))
                        yield message
                except SourceFailed as exc:
                    yield self._status("failed", exc.reason)
                    return
                continue
            if not await asyncio.to_thread(Path(path).exists):
                yield self._status("failed", f"{path}: no such file or folder")
                return
            if self.facts:
                async for event in self._from_process(path):
                    yield event
                    if isinstance(event, SourceStatus):  # it failed
                        return
                continue
            items = _file_items(path)
            timed = self.speed is not None
            while True:
                try:
                    batch = await asyncio.to_thread(_read_batch, items, self.batch, self.correlator, timed)
                except OSError as exc:
                    yield self._status("failed", f"{path}: cannot be read ({exc.strerror or exc})")
                    return
                if not batch:
                    break
                if not timed:  # instant: no pacing coroutine a message
                    for message, _ in batch:
                        yield message
                    continue
                for message, when in batch:
                    await self._pace(when)
                    yield message
        yield self._status("done")

    async def _from_process(self, path: str) -> AsyncIterator[FactsBatch | SourceStatus]:
        """A local file or folder read and decoded in a worker process; a `failed` status last if
        it could not be read."""
        from records.sources.replay_worker import FactsProcess  # it imports this module

        process, self._early = self._early, None
        if process is None or process.path != path:
            if process is not None:
                process.close()
            process = FactsProcess(path, self.correlator, self.batch)
            await asyncio.to_thread(process.start)
        try:
            while True:
                batch = await process.next()
                if batch is None:
                    return
                if isinstance(batch, str):
                    yield self._status("failed", batch)
                    return
                yield FactsBatch(self.label, batch)
        finally:
            await asyncio.to_thread(process.close)

    async def _s3(self, url: str) -> AsyncIterator[Message]:
        try:
            bucket, prefix = split_s3_url(url)
        except ValueError as exc:
            raise SourceFailed(str(exc)) from exc
        session: Any = self.aws.session()
        s3 = await self._stack.enter_async_context(session.create_client("s3", **self.aws.source_client_kwargs()))
        resource = f"S3 location {url}"
        paginator = s3.get_paginator("list_objects_v2")
        after = ""  # the last key listed: a listing that failed goes on after it
        backoff, failures = Backoff(), 0
        while True:
            listing: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
            if after:
                listing["StartAfter"] = after
            pages = paginator.paginate(**listing, PaginationConfig={"PageSize": self.s3_page_size})
            try:
                async for page in pages:
                    failures = 0
                    for entry in page.get("Contents", []):
                        key = after = entry["Key"]
                        if not key.endswith("/"):
                            yield await self._s3_message(s3, bucket, key, entry, resource)
                return
            except RETRYABLE as exc:
                fault = classify(exc, resource, "s3:ListBucket")
                failures += 1
                if fault.fatal or failures == S3_ATTEMPTS:
                    raise SourceFailed(fault.reason) from exc
                await asyncio.sleep(backoff.next_delay())

    async def _s3_message(self, s3: Any, bucket: str, key: str, entry: dict[str, Any], resource: str) -> Message:
        body = await self._with_retries(lambda: self._get(s3, bucket, key), resource, "s3:GetObject")
        meta = {"Bucket": bucket, "Key": key, "LastModified": str(entry.get("LastModified", ""))}
        if body[:2] == b"\x1f\x8b":
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError) as exc:
                body = f"(a .gz object that cannot be decompressed: {exc})".encode()
        decoded = tuple(decode(body, meta=meta, correlator=self.correlator))
        return Message(decoded[0].raw, f"s3://{bucket}/{key}", now_iso(), meta, decoded)

    @staticmethod
    async def _get(s3: Any, bucket: str, key: str) -> bytes:
        response = await s3.get_object(Bucket=bucket, Key=key)
        async with response["Body"] as stream:
            data: bytes = await stream.read()
        return data

    async def _with_retries(self, call: Any, resource: str, action: str, attempts: int = S3_ATTEMPTS) -> Any:
        backoff = Backoff()
        for attempt in range(attempts):
            try:
                return await call()
            except RETRYABLE as exc:
                fault = classify(exc, resource, action)
                if fault.fatal or attempt == attempts - 1:
                    raise SourceFailed(fault.reason) from exc
                await asyncio.sleep(backoff.next_delay())
        raise SourceFailed(f"{resource}: {action} kept failing")  # pragma: no cover

    async def aclose(self) -> None:
        if self._early is not None:  # never iterated
            self._early.close()
            self._early = None
        await self._stack.aclose()
