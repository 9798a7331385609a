"""Shared fixtures: a real moto server over HTTP on a free loopback port, and AWS settings for it."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from records.sandbox import Sandbox
from tests.integration.sandbox_helpers import TIME_FACTOR

GOLDEN = Path(__file__).parent / "golden"

# Never let a test reach real AWS, whatever the developer's shell holds.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    AWS_EC2_METADATA_DISABLED="true",
)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real moto server (threaded, in this process) on 127.0.0.1 and a free port."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_reset(moto_endpoint: str) -> str:
    """The moto endpoint with all state wiped, so tests never depend on each other's resources."""
    import urllib.request

    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    return moto_endpoint


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
