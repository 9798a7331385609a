"""Reading AWS for discovery, listing and the doctor: the Reader (clients, a concurrency bound,
the cache of destination checks), the error that stops everything (`fatal` -> DiscoveryError) and
the sentences of one resource's read errors (`problem`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from records.aws_options import AwsOptions

__all__ = [
    "ACCESS_CODES",
    "CREDENTIAL_CODES",
    "MISSING_CODES",
    "DiscoveryError",
    "Reader",
    "error_code",
    "fatal",
    "problem",
]

ACCESS_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "AuthorizationError", "AuthorizationErrorException", "403", "Forbidden"}
)
MISSING_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "NotFound",
        "NotFoundException",
        "404",
        "NoSuchBucket",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "NonExistentQueue",
    }
)
CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    }
)


class DiscoveryError(RuntimeError):
    """Nothing could be read (no region, no credentials, endpoint down): the message is a sentence."""


def error_code(exc: ClientError) -> tuple[str, str]:
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "Error"))
    return code, str(error.get("Message") or "")


def fatal(exc: BaseException, aws: AwsOptions) -> DiscoveryError | None:
    """The sentence for an error that stops everything, or None when it concerns one resource."""
    if isinstance(exc, NoRegionError):
        return DiscoveryError(
            "no AWS region is set: pass --region REGION, set AWS_DEFAULT_REGION or give the profile a region"
        )
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return DiscoveryError(
            "no AWS credentials were found: run `aws configure` or `aws sso login`, pass --profile, "
            "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, ProfileNotFound):
        return DiscoveryError(f"the AWS profile {aws.profile or ''} is not in ~/.aws/config: check --profile")
    if isinstance(exc, EndpointConnectionError):
        return DiscoveryError(f"cannot reach the AWS endpoint {exc.kwargs.get('endpoint_url', '')}: is it running?")
    if isinstance(exc, ClientError):
        code, message = error_code(exc)
        if code in CREDENTIAL_CODES:
            return DiscoveryError(f"AWS refused the credentials ({code}: {message}): log in again, e.g. aws sso login")
    if isinstance(exc, BotoCoreError) and "token" in str(exc).lower():
        return DiscoveryError(f"the AWS session has expired ({exc}): log in again, e.g. aws sso login")
    return None


class Reader:
    """The clients, the concurrency bound and the cache of destination checks of one discovery (or
    one listing, `records.listing`). `clients`: clients already made, by service name (the caller
    closes them); the others are made on first use from `session` (else `aws.session()`) and closed
    with `stack`. Throttling is retried by botocore's standard retry mode; `concurrency` bounds the
    calls in flight. An error that stops everything (`fatal`) is raised as DiscoveryError."""

    def __init__(
        self, aws: AwsOptions, concurrency: int, clients: Mapping[str, Any] | None, session: Any = None
    ) -> None:
        from aiobotocore.config import AioConfig

        self.aws = aws
        self.limit = asyncio.Semaphore(concurrency)
        # Standard retries: throttling and connection errors are retried with jittered back-off; 4
        # attempts keep an unreachable endpoint to a few seconds before its sentence.
        self.config = AioConfig(retries={"mode": "standard", "max_attempts": 4}, max_pool_connections=concurrency)
        self.stack = AsyncExitStack()
        self.clients: dict[str, Any] = dict(clients or {})
        self.session: Any = session or aws.session()  # typed per service by the stubs; services vary here
        self.checks: dict[str, asyncio.Task[str | None]] = {}
        self.configs: dict[str, dict[str, Any] | str] = {}  # function name -> configuration or a problem

    async def client(self, service: str) -> Any:
        """The client of `service`, made on first use. Raises DiscoveryError (no region...)."""
        if service not in self.clients:
            try:
                if not (self.aws.region or self.session.get_config_variable("region")):
                    raise NoRegionError()
                self.clients[service] = await self.stack.enter_async_context(
                    self.session.create_client(service, config=self.config, **self.aws.client_kwargs())
                )
            except BotoCoreError as exc:
                raise fatal(exc, self.aws) or DiscoveryError(f"cannot make an AWS {service} client: {exc}") from exc
        return self.clients[service]

    async def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """One call within the concurrency bound; a fatal error becomes DiscoveryError, another
        ClientError or BotoCoreError is raised as it is."""
        client = await self.client(service)
        async with self.limit:
            try:
                result: dict[str, Any] = await getattr(client, operation)(**params)
            except (ClientError, BotoCoreError) as exc:
                stop = fatal(exc, self.aws)
                if stop is not None:
                    raise stop from exc
                raise
        return result

    async def pages(self, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """Every item under `key` of a paginated Lambda operation, one page request at a time
        within the concurrency bound; errors as in `call`."""
        client = await self.client("lambda")
        items: list[dict[str, Any]] = []
        paginator = client.get_paginator(operation)
        iterator = paginator.paginate(**params).__aiter__()
        while True:
            async with self.limit:
                try:
                    page = await iterator.__anext__()
                except StopAsyncIteration:
                    return items
                except (ClientError, BotoCoreError) as exc:
                    stop = fatal(exc, self.aws)
                    if stop is not None:
                        raise stop from exc
                    raise
            items.extend(page.get(key) or [])

    async def settle(self) -> None:
        """Let every destination check end (cancelled if still running) before the clients close."""
        for task in self.checks.values():
            task.cancel()
        await asyncio.gather(*self.checks.values(), return_exceptions=True)

    def once(self, key: str, check: Callable[[], Awaitable[str | None]]) -> asyncio.Task[str | None]:
        """The task checking `key` (a destination ARN), started on the first ask only."""
        if key not in self.checks:
            self.checks[key] = asyncio.ensure_future(check())
        return self.checks[key]


def problem(exc: ClientError | BotoCoreError, what: str) -> str:
    if isinstance(exc, ClientError):
        code, message = error_code(exc)
        if code in ACCESS_CODES:
            return f"not readable: the caller may not read {what} ({code})"
        if code in MISSING_CODES:
            return f"missing: {what} does not exist"
        return f"reading {what} failed: {code}: {message}".rstrip(": ")
    return f"reading {what} failed: {exc}"
