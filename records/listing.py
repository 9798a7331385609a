"""The region's functions that send records anywhere, streamed as they are read (the start screen)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from records.aws_options import AwsOptions
from records.aws_reads import DiscoveryError, Reader, fatal
from records.discovery import Route, function_routes

__all__ = ["FunctionDestinations", "Listing", "list_destinations", "short"]

_KIND = {"sqs": "queue", "sns": "topic", "events": "bus", "lambda": "function", "s3": "bucket", "kafka": "kafka"}


@dataclass(frozen=True, slots=True)
class FunctionDestinations:
    """One function: `name`, the `qualifiers` with a destination, the destination ARNs by route
    (`on_success`, `on_failure`, `dead_letter`, `stream_failure`) and `problems` (sentences)."""

    name: str
    qualifiers: tuple[str, ...] = ()
    on_success: tuple[str, ...] = ()
    on_failure: tuple[str, ...] = ()
    dead_letter: tuple[str, ...] = ()
    stream_failure: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def has_destinations(self) -> bool:
        """Whether the function sends records anywhere."""
        return bool(self.on_success or self.on_failure or self.dead_letter or self.stream_failure)

    @classmethod
    def from_routes(cls, name: str, routes: Sequence[Route]) -> FunctionDestinations:
        """The function `name` as its discovery routes describe it (each value once, in order)."""

        def unique(route: str) -> tuple[str, ...]:
            return tuple(dict.fromkeys(r.destination for r in routes if r.route == route and r.destination))

        qualifiers = tuple(dict.fromkeys(r.qualifier for r in routes if r.qualifier and r.destination))
        problems = tuple(dict.fromkeys(r.problem for r in routes if r.problem))
        return cls(
            name,
            qualifiers,
            unique("on-success"),
            unique("on-failure"),
            unique("dead-letter"),
            unique("stream-failure"),
            problems,
        )


@dataclass(frozen=True, slots=True)
class Listing:
    """One step of `list_destinations`: `functions`, those just read that have a destination or a
    problem; `read`, the functions read so far; `done`, true on the last one (no functions)."""

    functions: list[FunctionDestinations] = field(default_factory=list)
    read: int = 0
    done: bool = False


def short(arn: str) -> str:
    """A destination's short name for a table cell: `arn:aws:sqs:r:1:order-failures` ->
    `queue:order-failures`; a function's qualifier is kept."""
    if arn.startswith("kafka://"):
        return arn
    parts = arn.split(":")
    if len(parts) < 6:
        return arn
    kind = _KIND.get(parts[2], parts[2])
    if parts[2] == "lambda":
        return f"function:{':'.join(parts[6:])}"
    if parts[2] == "events":
        return f"bus:{parts[5].removeprefix('event-bus/')}"
    return f"{kind}:{':'.join(parts[5:])}"


async def list_destinations(
    aws: AwsOptions, *, page_size: int = 50, batch: int = 10, concurrency: int = 16
) -> AsyncIterator[Listing]:
    """The region's functions that send records anywhere, as they are read.

    Pages through ListFunctions (a first page of `batch`, then `page_size`, the next page asked for
    while the current one is read); reads each function's destinations with the same calls as
    `records.discovery.discover` (`function_routes`: event-invoke configs of every qualifier,
    dead-letter queue, event source mappings; Lambda destinations are not followed: those functions
    are listed themselves), at most `concurrency` calls at once, and yields a `Listing` every
    `batch` functions read and at the end of each page, so the first ones show while the rest load;
    then a last one with `done`. Raises DiscoveryError (a sentence) when nothing can be read."""
    try:
        reader = Reader(aws, concurrency, None)
        async with reader.stack:
            next_page: asyncio.Future[dict[str, Any]] | None = None
            try:
                read = 0
                # A small first page shows the first functions at once; the next page is asked for
                # while the current one is read.
                next_page = asyncio.ensure_future(reader.call("lambda", "list_functions", MaxItems=batch))
                while next_page is not None:
                    page = await next_page
                    marker = page.get("NextMarker")
                    next_page = (
                        asyncio.ensure_future(
                            reader.call("lambda", "list_functions", MaxItems=page_size, Marker=marker)
                        )
                        if marker
                        else None
                    )
                    functions = [item for item in page.get("Functions") or [] if item.get("FunctionName")]
                    reader.configs.update({str(item["FunctionName"]): item for item in functions})
                    tasks = [asyncio.ensure_future(_one(reader, str(item["FunctionName"]), item)) for item in functions]
                    try:
                        found: list[FunctionDestinations] = []
                        for count, next_done in enumerate(asyncio.as_completed(tasks), start=1):
                            result = await next_done
                            if result.has_destinations or result.problems:
                                found.append(result)
                            if count % batch == 0 or count == len(tasks):
                                yield Listing(found, read + count)
                                found = []
                    finally:
                        for task in tasks:
                            task.cancel()
                        await asyncio.gather(*tasks, return_exceptions=True)
                    read += len(functions)
                yield Listing([], read, done=True)
            finally:
                if next_page is not None:  # closed early: the page asked for ahead is not needed
                    next_page.cancel()
                    await asyncio.gather(next_page, return_exceptions=True)
                await reader.settle()  # before the clients close
    except (ClientError, BotoCoreError) as exc:
        raise fatal(exc, aws) or DiscoveryError(f"reading the functions failed: {exc}") from exc


async def _one(reader: Reader, name: str, config: dict[str, Any]) -> FunctionDestinations:
    routes, _notes = await function_routes(reader, name, None, config, None, False)
    return FunctionDestinations.from_routes(name, routes)
