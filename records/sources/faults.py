"""Faults of live sources: which AWS errors are worth retrying, and what to tell a person when not.

Transient (retried with back-off, reported as `reconnecting`): network errors, an endpoint that is
down, time-outs, throttling, 5xx. Fatal (reported as `failed`, one sentence naming the resource and
the permission or fix): missing or expired credentials, AccessDenied, a queue/topic/bus that does
not exist, any other 4xx the service answers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from records.aws_options import config_problem

__all__ = [
    "Backoff",
    "Fault",
    "SourceFailed",
    "classify",
    "error_code",
]

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ProvisionedThroughputExceededException",
        "AWS.SimpleQueueService.RequestThrottled",
    }
)
TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "AWS.SimpleQueueService.ServiceUnavailable",
        "KMS.ThrottlingException",
    }
)
EXPIRED_CODES = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired", "InvalidToken"}
)
BAD_CREDENTIAL_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "AuthFailure",
        "MissingAuthenticationToken",
        "IncompleteSignature",
    }
)
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "AuthorizationError", "AuthorizationErrorException"})
MISSING_CODES = frozenset(
    {
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "NonExistentQueue",
        "NotFound",
        "NotFoundException",
        "ResourceNotFoundException",
        "NoSuchBucket",
    }
)


@dataclass(frozen=True, slots=True)
class Fault:
    """What `classify` decided: retry it (not `fatal`) or stop, and the sentence to show."""

    fatal: bool
    reason: str
    missing: bool = False  # the resource does not exist (may be transient right after an endpoint restart)


class SourceFailed(Exception):
    """A fault no retry can fix; `reason` is the sentence to show."""

    def __init__(self, reason: str, *, missing: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing  # the resource does not exist


class Backoff:
    """Capped exponential back-off with full jitter (a pause drawn from [base, min(cap, base*factor^n)]).

    `next_delay()` is the next pause (growing, capped, jittered); `reset()` after a success. The
    only retrying around a source's AWS calls: their clients have botocore's retries off
    (records.aws_options.AwsOptions.source_client_kwargs).
    """

    def __init__(self, base: float = 0.5, cap: float = 20.0, factor: float = 2.0) -> None:
        self.base = base
        self.cap = cap
        self.factor = factor
        self.attempt = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * self.factor**self.attempt)
        self.attempt += 1
        return random.uniform(min(self.base, ceiling), ceiling)

    def reset(self) -> None:
        self.attempt = 0


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def _status(exc: ClientError) -> int:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return int(status) if isinstance(status, int) else 0


def classify(exc: BaseException, resource: str, action: str, where: str | None = None) -> Fault:
    """Decide whether `exc`, raised while doing `action` (an IAM action such as sqs:ReceiveMessage)
    on `resource` (e.g. "queue order-failures"), is worth retrying, and say what happened."""
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return Fault(
            True,
            f"{resource}: no AWS credentials found; set AWS_PROFILE or pass --profile, "
            "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        )
    if isinstance(exc, NoRegionError | ProfileNotFound):
        return Fault(True, f"{resource}: {config_problem(exc)}")
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = str(exc.response.get("Error", {}).get("Message", "")).strip()
        detail = f" ({message})" if message else ""
        if code in THROTTLING_CODES:
            return Fault(False, f"{resource}: throttled by AWS ({code}) on {action}")
        if code in TRANSIENT_CODES or _status(exc) >= 500:
            return Fault(False, f"{resource}: AWS answered {code or _status(exc)} on {action}")
        if code in EXPIRED_CODES:
            return Fault(
                True,
                f"{resource}: the AWS credentials have expired ({code}); refresh them "
                "(e.g. `aws sso login` or a new session token) and start again",
            )
        if code in BAD_CREDENTIAL_CODES:
            return Fault(
                True,
                f"{resource}: the AWS credentials were rejected ({code}){detail}; check the profile, "
                "access key and region",
            )
        if code in DENIED_CODES:
            return Fault(
                True,
                f"{resource}: access denied for {action}; grant {action} on it to your identity "
                "(see docs/sources.md for the permissions each mode needs)",
            )
        if code in MISSING_CODES:
            looked = f" in {where}" if where else ""
            return Fault(
                True, f"{resource} does not exist{looked} (or is in another region or account){detail}", missing=True
            )
        return Fault(True, f"{resource}: {action} failed with {code or 'an error'}{detail}")
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return Fault(False, f"{resource}: cannot reach the endpoint ({type(exc).__name__}: {exc})")
    if isinstance(exc, BotoCoreError):
        return Fault(False, f"{resource}: {type(exc).__name__}: {exc}")
    if isinstance(exc, OSError | TimeoutError):
        return Fault(False, f"{resource}: network error ({type(exc).__name__}: {exc})")
    # aiohttp errors and anything else the HTTP stack raises: transient, but reported.
    return Fault(False, f"{resource}: {type(exc).__name__}: {exc}")
