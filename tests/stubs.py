"""aiobotocore clients for `AioStubber` unit tests: they never reach a network (every call is stubbed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from aiobotocore.session import get_session


@asynccontextmanager
async def stub_clients(*services: str) -> AsyncIterator[dict[str, Any]]:
    """One client per service name, with dummy credentials in us-east-1, closed on exit."""
    session = get_session()
    async with AsyncExitStack() as stack:
        clients: dict[str, Any] = {}
        for service in services:
            clients[service] = await stack.enter_async_context(
                session.create_client(  # type: ignore[call-overload]
                    service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
                )
            )
        yield clients
