"""The record rules, each in one place: what counts as success, the error a payload reports, the
records nested in a request payload, and the one nesting limit for payloads.

Everything that needs one of these rules (the models, the facts a row stores, the decoder, the
flow follower, the UI's store queries) calls these functions. Where a hot loop inlines one for
speed, a test checks the inlined copy against the function here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "TooDeep",
    "deeper_than",
    "innermost_payload",
    "nested_records",
    "payload_error",
    "succeeded",
]

MAX_DEPTH = 200
"""The payload nesting limit (DESIGN.md "Limits"): a payload nested deeper is kept in the raw text
only and shown as too deep; the nested-record walk stops after this many records as well."""


class TooDeep(str):
    """Stands in for a payload nested deeper than MAX_DEPTH: a sentence, marked by its type.

    It is a `str`, so everything that shows, dumps or serialises a record takes it as it takes any
    string; `isinstance(value, TooDeep)` tells it from a payload that is really a string.
    """

    __slots__ = ()

    @classmethod
    def sentence(cls) -> TooDeep:
        return cls(f"too deep: nested more than {MAX_DEPTH} levels (the raw text keeps it)")


def succeeded(condition: object, function_error: object) -> bool:
    """An invocation succeeded when its condition is Success and its function reported no error."""
    return condition == "Success" and function_error is None


def payload_error(payload: Any) -> tuple[str | None, str | None]:
    """(errorType, errorMessage) of a response payload: the runtime's error object, each part None
    unless it is a string."""
    if not isinstance(payload, dict):
        return None, None
    kind, message = payload.get("errorType"), payload.get("errorMessage")
    return (kind if isinstance(kind, str) else None), (message if isinstance(message, str) else None)


def nested_records(payload: Any) -> Iterator[dict[str, Any]]:
    """The records nested in a request payload, nearest first (a Lambda destination delivers the
    upstream record as the next function's event): each a JSON object whose `requestContext` is an
    object. At most MAX_DEPTH of them."""
    for _ in range(MAX_DEPTH):
        if not isinstance(payload, dict):
            return
        if not isinstance(payload.get("requestContext"), dict):
            return
        yield payload
        payload = payload.get("requestPayload")


def innermost_payload(payload: Any) -> Any:
    """The original event under any number of nested records (a nested record without a
    `requestPayload` is itself the innermost payload)."""
    if not isinstance(payload, dict) or "requestContext" not in payload:
        return payload  # the common case, a plain event, without starting the walk (runs every record)
    for record in nested_records(payload):
        if "requestPayload" not in record:
            return record
        payload = record["requestPayload"]
    return payload


def deeper_than(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether a JSON value nests objects and arrays more than `limit` levels (`[]` is one level).
    Iterative: any depth is measured without recursion."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        if depth > limit:
            return True
        stack.extend((child, depth) for child in children if isinstance(child, dict | list | tuple))
    return False
