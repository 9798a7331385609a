"""Fixtures of the integration tests: the sandbox (the shipped order system, fast back-offs) and
boto3 clients on it, one of each per test module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from records.sandbox import Sandbox
from tests.integration.sandbox_helpers import TIME_FACTOR, clients


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """The shipped order system, fast back-offs; one per test module."""
    from records.sandbox.order_system import handlers

    handlers.reset()
    box = Sandbox(time_factor=TIME_FACTOR)
    box.start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture(scope="module")
def aws(sandbox: Sandbox) -> dict[str, Any]:
    return clients(sandbox.endpoint_url)
