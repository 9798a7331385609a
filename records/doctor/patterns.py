"""EventBridge event patterns, matched locally when events:TestEventPattern cannot be called.

Supported: exact values, `prefix`, `suffix`, `anything-but` (values or a prefix), `exists`,
`equals-ignore-case`, `wildcard` and `numeric`; nested fields and arrays. Any other operator makes
the answer None ("cannot tell"), never a guess.
"""

from __future__ import annotations

import fnmatch
import operator
from collections.abc import Callable, Mapping
from typing import Any

_MISSING = object()
_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class Unsupported(Exception):
    pass


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool | None:
    """True when `event` matches `pattern`, False when not, None when the pattern uses an operator
    this reading does not know."""
    try:
        return _object(pattern, event)
    except Unsupported:
        return None


def _object(pattern: Mapping[str, Any], event: Any) -> bool:
    for key, wanted in pattern.items():
        value = event.get(key, _MISSING) if isinstance(event, Mapping) else _MISSING
        if isinstance(wanted, Mapping):
            if not _object(wanted, value):
                return False
        elif isinstance(wanted, list):
            values = value if isinstance(value, list) else [value]
            if not any(_one(rule, item) for rule in wanted for item in values or [_MISSING]):
                return False
        else:
            raise Unsupported(key)
    return True


def _one(rule: Any, value: Any) -> bool:
    if not isinstance(rule, Mapping):
        return value is not _MISSING and not isinstance(value, Mapping) and rule == value
    if len(rule) != 1:
        raise Unsupported(str(rule))
    ((name, argument),) = rule.items()
    if name == "exists":
        return (value is not _MISSING) == bool(argument)
    if value is _MISSING:
        return False
    if name == "prefix" and isinstance(argument, str):
        return isinstance(value, str) and value.startswith(argument)
    if name == "suffix" and isinstance(argument, str):
        return isinstance(value, str) and value.endswith(argument)
    if name == "equals-ignore-case" and isinstance(argument, str):
        return isinstance(value, str) and value.lower() == argument.lower()
    if name == "wildcard" and isinstance(argument, str):
        return isinstance(value, str) and fnmatch.fnmatchcase(value, argument.replace("[", "[[]"))
    if name == "anything-but":
        if isinstance(argument, Mapping):
            if set(argument) == {"prefix"}:
                return not (isinstance(value, str) and value.startswith(str(argument["prefix"])))
            raise Unsupported(str(argument))
        return value not in (argument if isinstance(argument, list) else [argument])
    if name == "numeric" and isinstance(argument, list) and isinstance(value, int | float):
        pairs = zip(argument[::2], argument[1::2], strict=False)
        return all(op in _NUMERIC and _NUMERIC[op](float(value), float(limit)) for op, limit in pairs)
    raise Unsupported(name)
