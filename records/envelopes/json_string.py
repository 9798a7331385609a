"""The JSON-string envelope: a record that was JSON-encoded twice (a JSON string holding a JSON
document). Also home of `parse_json`, how every JSON text is read (with a reason when it is not)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pydantic_core

from records.envelopes.base import Envelope, Layer

__all__ = ["JsonString", "parse_json"]


def parse_json(text: str) -> tuple[Any, str | None]:
    """Parse JSON text; on failure return a reason that names the line and column."""
    if not text.strip():
        return None, "the input is empty"
    try:
        return pydantic_core.from_json(text), None  # fast path (Rust); errors fall through to json
    except ValueError:
        pass
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    except RecursionError:
        return None, "the JSON is nested too deeply to read"


class JsonString(Envelope):
    """`"{\\"version\\": \\"1.0\\", ...}"`: a JSON string whose text is a JSON object or array."""

    name = "json-string"

    def matches(self, value: Any) -> bool:
        return isinstance(value, str) and value.lstrip()[:1] in ("{", "[")

    def unwrap(self, value: str) -> Iterable[Layer]:
        inner, reason = parse_json(value)
        if reason is not None:
            return (Layer(None, problem=f"a JSON string holding {reason}"),)
        return (Layer(self.name, {}, inner),)
