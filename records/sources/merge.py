"""Several sources as one stream; every event keeps the label of the source it came from."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import suppress

from records.sources.base import Mode, Source, SourceEvent, SourceStatus

__all__ = [
    "MergedSource",
    "merge",
]


class _Ended:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class MergedSource:
    """A `records.sources.base.Source` (label "merged") iterating all `sources` concurrently; it
    ends when every one has ended. `aclose()` stops and closes them all (so taps remove their
    temporary resources)."""

    def __init__(self, sources: Sequence[Source], *, buffer: int = 200) -> None:
        self.sources = list(sources)
        self.label = "merged"
        self.mode: Mode = self.sources[0].mode if self.sources else "replay"
        self._queue: asyncio.Queue[SourceEvent | tuple[Source, _Ended]] = asyncio.Queue(maxsize=buffer)
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    async def _pump(self, source: Source) -> None:
        error: BaseException | None = None
        try:
            async for event in source:
                await self._queue.put(event)
        except Exception as exc:  # reported as a failed status below, never lost
            error = exc
        await self._queue.put((source, _Ended(error)))

    async def __aiter__(self) -> AsyncIterator[SourceEvent]:
        if not self._tasks:
            loop = asyncio.get_running_loop()
            self._tasks = [
                loop.create_task(self._pump(source), name=f"merge {source.label}") for source in self.sources
            ]
        running = len(self._tasks)
        while running:
            event = await self._queue.get()
            if isinstance(event, tuple):
                running -= 1
                source, ended = event
                if ended.error is not None:
                    error = ended.error
                    yield SourceStatus(
                        source.label, source.mode, "failed", f"{source.label}: {type(error).__name__}: {error}"
                    )
                continue
            yield event

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        # Close every source even when one of them fails to close.
        results = await asyncio.gather(*(source.aclose() for source in self.sources), return_exceptions=True)
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors:
            raise errors[0]


def merge(sources: Sequence[Source]) -> MergedSource:
    """The sources as one `MergedSource`."""
    return MergedSource(sources)
