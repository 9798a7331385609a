"""The read-only Lambda calls discovery makes, answered by the sandbox in AWS's response shapes.

  GET /2015-03-31/functions/?Marker=&MaxItems=      ListFunctions, paginated (NextMarker)
  GET /2015-03-31/functions/{name}/configuration    GetFunctionConfiguration (with DeadLetterConfig
                                                    when the function has a dead-letter queue)

(ListEventSourceMappings is stream_api.py's, with the sandbox's Kinesis and DynamoDB mappings.)

`LambdaApi._lambda` asks `answer(...)` before it refuses a request it does not know.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

MAX_ITEMS = 50  # Lambda's page size for ListFunctions


class PageError(ValueError):
    """A Marker or MaxItems that cannot be used; the message is AWS's kind of sentence."""


def page(items: Sequence[dict[str, Any]], query: Any, key: str) -> dict[str, Any]:
    """One page of `items` as `{key: [...], "NextMarker": ...}` (the marker is the next index)."""
    marker = query.get("Marker") or "0"
    size = query.get("MaxItems") or str(MAX_ITEMS)
    if not marker.isdigit() or int(marker) > len(items):
        raise PageError(f"Invalid Marker {marker!r}")
    if not size.isdigit() or not 1 <= int(size) <= 10_000:
        raise PageError(f"MaxItems must be between 1 and 10000, got {size!r}")
    start, end = int(marker), int(marker) + int(size)
    body: dict[str, Any] = {key: list(items[start:end])}
    if end < len(items):
        body["NextMarker"] = str(end)
    return body


def answer(
    parts: Sequence[str],
    method: str,
    query: Any,
    configurations: Callable[[], list[dict[str, Any]]],
    configuration: Callable[[str], dict[str, Any]],
) -> web.Response | None:
    """The response to a discovery read, or None when the request is not one of them.

    `configurations()` lists every function's configuration; `configuration(name)` is one function's
    (raising the API's not-found error)."""
    if method != "GET" or len(parts) < 2 or parts[0] != "2015-03-31":
        return None
    if parts[1] == "functions" and len(parts) == 2:
        return web.json_response(page(configurations(), query, "Functions"))
    if parts[1] == "functions" and len(parts) == 4 and parts[3] == "configuration":
        return web.json_response(configuration(parts[2]))
    return None
