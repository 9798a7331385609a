"""The doctor's AWS calls: one client per service, a bound on calls in flight, read-once caches,
and errors sorted into "missing", "denied (this permission)" and the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from records.aws_options import AwsOptions
from records.aws_reads import ACCESS_CODES, MISSING_CODES, DiscoveryError, fatal

T = TypeVar("T")

# The IAM action each read needs, where it is not service:OperationName.
_PERMISSION = {
    ("s3", "head_bucket"): "s3:ListBucket",
    ("cloudwatch", "get_metric_data"): "cloudwatch:GetMetricData",
}
_PREFIX = {"cloudwatch": "cloudwatch", "events": "events", "lambda": "lambda"}
MISSING = MISSING_CODES | {"NotFoundException", "NoSuchEntity", "InvalidParameter"}


class Denied(Exception):
    """The caller may not make this call: `permission` names the IAM action it needs."""

    def __init__(self, permission: str) -> None:
        super().__init__(permission)
        self.permission = permission


class Missing(Exception):
    """The resource does not exist."""


class Unavailable(Exception):
    """The endpoint does not implement the call (a local stand-in) or it failed: `reason` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def code(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "Error"))


class Calls:
    """Clients made once, calls bounded by `concurrency`, results cached by key."""

    def __init__(self, aws: AwsOptions, concurrency: int, clients: Mapping[str, Any] | None = None) -> None:
        from aiobotocore.config import AioConfig

        self.aws = aws
        self.limit = asyncio.Semaphore(concurrency)
        self.config = AioConfig(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=concurrency)
        # One attempt: iam:SimulatePrincipalPolicy may be missing (moto answers 500) and must not cost retries.
        self.once_config = AioConfig(retries={"mode": "standard", "max_attempts": 1})
        self.stack = AsyncExitStack()
        self.clients: dict[str, Any] = dict(clients or {})
        self.session: Any = aws.session()
        self.cache: dict[str, asyncio.Task[Any]] = {}
        self._making: dict[str, asyncio.Lock] = {}

    async def client(self, service: str, single: bool = False) -> Any:
        key = f"{service}/once" if single else service
        lock = self._making.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self.clients:
                try:
                    self.clients[key] = await self.stack.enter_async_context(
                        self.session.create_client(
                            service, config=self.once_config if single else self.config, **self.aws.client_kwargs()
                        )
                    )
                except BotoCoreError as exc:
                    raise fatal(exc, self.aws) or DiscoveryError(f"cannot make an AWS {service} client: {exc}") from exc
        return self.clients[key]

    async def call(self, service: str, operation: str, *, single: bool = False, **params: Any) -> dict[str, Any]:
        """The response, or Denied / Missing / Unavailable; a stopping error (credentials) raises DiscoveryError."""
        client = await self.client(service, single)
        async with self.limit:
            with self._errors(client, service, operation):
                result: dict[str, Any] = await getattr(client, operation)(**params)
        return result

    async def pages(self, service: str, operation: str, **params: Any) -> list[dict[str, Any]]:
        """Every page of a paginated operation (botocore's paginator), errors as `call` raises them."""
        client = await self.client(service)
        async with self.limit:
            with self._errors(client, service, operation):
                return [page async for page in client.get_paginator(operation).paginate(**params)]

    @contextmanager
    def _errors(self, client: Any, service: str, operation: str) -> Iterator[None]:
        """AWS's errors as Denied / Missing / Unavailable, or DiscoveryError for one that stops everything."""
        try:
            yield
        except ClientError as exc:
            stop = fatal(exc, self.aws)
            if stop is not None:
                raise stop from exc
            found = code(exc)
            if found in ACCESS_CODES:
                raise Denied(self.permission(client, service, operation)) from exc
            if found in MISSING:
                raise Missing(found) from exc
            raise Unavailable(f"{found}: {exc.response.get('Error', {}).get('Message', '')}".rstrip(": ")) from exc
        except (BotoCoreError, ResponseParserError) as exc:  # ResponseParserError: an endpoint's 500 page
            stop = fatal(exc, self.aws)
            if stop is not None:
                raise stop from exc
            raise Unavailable(str(exc).splitlines()[0]) from exc

    @staticmethod
    def permission(client: Any, service: str, operation: str) -> str:
        if (service, operation) in _PERMISSION:
            return _PERMISSION[(service, operation)]
        api = client.meta.method_to_api_mapping.get(operation, operation)
        return f"{_PREFIX.get(service, service)}:{api}"

    def once(self, key: str, make: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        """The task reading `key`, started the first time it is asked for."""
        if key not in self.cache:
            self.cache[key] = asyncio.ensure_future(make())
        return self.cache[key]

    async def settle(self) -> None:
        for task in self.cache.values():
            task.cancel()
        await asyncio.gather(*self.cache.values(), return_exceptions=True)
