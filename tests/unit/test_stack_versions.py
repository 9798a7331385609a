"""The stack file's `versions` and `aliases` of a function (records/sandbox/stack.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from records.sandbox.stack import StackError, parse_stack

FILE = Path("stack.toml")


def stack(**function: Any) -> dict[str, Any]:
    return {"functions": [{"name": "order", "handler": "m:f", **function}]}


def test_versions_and_aliases_are_read() -> None:
    spec = parse_stack(stack(versions=1, aliases={"live": "1", "edge": "$LATEST", "one": 1}), FILE).functions[0]
    assert spec.versions == 1
    assert spec.aliases == (("live", "1"), ("edge", "$LATEST"), ("one", "1"))
    assert parse_stack(stack(), FILE).functions[0].aliases == ()


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (
            {"versions": 2},
            "stack.toml: functions[0]: versions must be 0 or 1 (Lambda publishes no new version while the "
            "configuration is unchanged, so a stack can publish one)",
        ),
        (
            {"versions": 1.0},
            "stack.toml: functions[0]: versions must be 0 or 1 (Lambda publishes no new version while the "
            "configuration is unchanged, so a stack can publish one)",
        ),
        (
            {"versions": True},
            "stack.toml: functions[0]: versions must be 0 or 1 (Lambda publishes no new version while the "
            "configuration is unchanged, so a stack can publish one)",
        ),
        (
            {"aliases": {"live": "1"}},
            "stack.toml: functions[0]: alias 'live' points at '1'; the stack publishes no version "
            '(add versions = 1), or use "$LATEST"',
        ),
        (
            {"versions": 1, "aliases": {"live": "2"}},
            "stack.toml: functions[0]: alias 'live' points at '2'; the stack publishes version 1 "
            '(versions = 1), or use "$LATEST"',
        ),
        (
            {"versions": 1, "aliases": {"2024": "1"}},
            "stack.toml: functions[0]: alias name '2024' must be 1-128 letters, digits, - or _ and not only digits",
        ),
        (
            {"aliases": ["live"]},
            'stack.toml: functions[0]: aliases must be a table, e.g. aliases = { live = "1" }',
        ),
    ],
)
def test_invalid_versions_and_aliases_are_refused(function: dict[str, Any], message: str) -> None:
    with pytest.raises(StackError) as caught:
        parse_stack(stack(**function), FILE)
    assert str(caught.value) == message
