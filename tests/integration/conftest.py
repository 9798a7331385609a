"""Fixtures of the integration tests: boto3 clients on the sandbox (tests/conftest.py), the discovery stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from records.sandbox import Sandbox
from tests.integration.discovery_stack import HANDLERS, STACK
from tests.integration.sandbox_helpers import TIME_FACTOR, clients, write_stack


@pytest.fixture(scope="module")
def aws(sandbox: Sandbox) -> dict[str, Any]:
    return clients(sandbox.endpoint_url)


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The discovery stack (tests/integration/discovery_stack.py); one per test module."""
    box = Sandbox(write_stack(tmp_path_factory.mktemp("stack"), STACK, HANDLERS), time_factor=TIME_FACTOR)
    box.start()
    try:
        yield box
    finally:
        box.stop()
