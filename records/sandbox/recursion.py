"""Lambda's recursive loop detection, as AWS documents it, and its per-function configuration.

AWS ("Use Lambda recursive loop detection to prevent infinite loops", docs.aws.amazon.com/lambda/
latest/dg/invocation-recursion.html): Lambda tracks a *chain of requests* (the invocations caused by
one triggering event) with metadata in the X-Ray trace header (`X-Amzn-Trace-Id`, field `Lineage`),
which supported AWS SDKs carry from a function's environment (`_X_AMZN_TRACE_ID`) onto its own AWS
calls. "If your function is invoked approximately 16 times in the same chain of requests, then Lambda
automatically stops the next function invocation in that request chain": the invocation is not run,
CloudWatch counts `RecursiveInvocationsDropped`, a synchronous caller gets `RecursiveInvocationException`
and an asynchronous event goes to the function's on-failure destination (or dead-letter queue).
Functions set to `Allow` (PutFunctionRecursionConfig) are never stopped and emit no such metric.

The sandbox's lineage is the documented first format of the field: one `hash:count` entry per
function of the chain, joined by `|` (`Lineage=a87bd80c:1|68fd508a:5`), where the hash is the first
8 hex digits of the SHA-256 of the function's ARN and the count is how many times that function ran
in the chain. (AWS's current format, `counter:hash:counter`, is undocumented; a header in it is
read as carrying no lineage.) A chain reaches the sandbox's functions through:

  - an Invoke request carrying `X-Amzn-Trace-Id` (what a handler's botocore sends), read by
    `LambdaApi._invoke` with `parse_header`;
  - a Lambda destination: the record's invocation inherits the chain of the event it records
    (`CHAIN`, set by the runtime while it processes an event, read by delivery.py).

The sandbox runs no SQS, SNS or S3 triggers of functions, so loops through those services cannot
form in it.

  PUT /2024-08-31/functions/{name}/recursion-config   PutFunctionRecursionConfig  } `answer`
  GET /2024-08-31/functions/{name}/recursion-config   GetFunctionRecursionConfig  }
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote

from records.sandbox.api_errors import validation_message, violation

if TYPE_CHECKING:
    from aiohttp import web

LIMIT = 16  # "approximately 16 times in the same chain of requests"
ALLOW = "Allow"
TERMINATE = "Terminate"
RECURSIVE_LOOPS = (ALLOW, TERMINATE)  # the botocore model's RecursiveLoop enum, in its order
DEFAULT = TERMINATE
METRIC = "RecursiveInvocationsDropped"
# The error Lambda returns to a synchronous caller (400, botocore model); its message is the
# model's documentation of the exception (AWS publishes no other wording).
ERROR_TYPE = "RecursiveInvocationException"
ERROR_MESSAGE = (
    "Lambda has detected your function being invoked in a recursive loop with other Amazon Web Services "
    "resources and stopped your function's invocation."
)
# The `condition` of the record of a stopped asynchronous event. AWS documents that the event goes to
# the on-failure destination but not the record's condition: the sandbox names the error above.
CONDITION = ERROR_TYPE
MAX_ENTRIES = 16  # the first lineage format tracked at most 16 resources

# The botocore model's UnqualifiedFunctionName pattern (the FunctionName of both calls).
FUNCTION_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)"
)
_FUNCTION_NAME = re.compile(FUNCTION_NAME_PATTERN)
_ENTRY = re.compile(r"^([0-9a-f]{8}):(\d{1,5})$")

Lineage = tuple[tuple[str, int], ...]  # (function hash, invocations in the chain), oldest first

# The chain of the event the runtime is processing (its worker task's context): records it
# delivers to a Lambda destination start invocations of the same chain.
CHAIN: contextvars.ContextVar[Lineage] = contextvars.ContextVar("lambda_lineage", default=())


class _Spec(Protocol):
    @property
    def recursive_loop(self) -> str: ...


class Function(Protocol):
    """What this module needs of runtime.Function (which imports this module)."""

    arn: str
    recursive_loop: str | None

    @property
    def spec(self) -> _Spec: ...


def function_hash(function_arn: str) -> str:
    return hashlib.sha256(function_arn.encode()).hexdigest()[:8]


def parse_header(header: str | None) -> Lineage:
    """The lineage of an `X-Amzn-Trace-Id` value (botocore percent-encodes `|` as %7C); () when
    there is none or it is not in the `hash:count|...` format."""
    if not header:
        return ()
    for part in unquote(header).split(";"):
        key, _, value = part.strip().partition("=")
        if key != "Lineage":
            continue
        entries: list[tuple[str, int]] = []
        for entry in value.split("|"):
            match = _ENTRY.match(entry.strip())
            if match is None:
                return ()
            entries.append((match[1], int(match[2])))
        return tuple(entries[-MAX_ENTRIES:])
    return ()


def format_lineage(lineage: Lineage) -> str:
    return "|".join(f"{digest}:{count}" for digest, count in lineage)


def count(lineage: Lineage, function_arn: str) -> int:
    """How many times the function ran in this chain."""
    digest = function_hash(function_arn)
    return next((n for entry, n in lineage if entry == digest), 0)


def advanced(lineage: Lineage, function_arn: str) -> Lineage:
    """The chain once the function has run once more in it."""
    digest = function_hash(function_arn)
    if any(entry == digest for entry, _ in lineage):
        return tuple((entry, n + 1 if entry == digest else n) for entry, n in lineage)
    return (*lineage, (digest, 1))[-MAX_ENTRIES:]


def trace_header(lineage: Lineage) -> str:
    """A trace header for a run in this chain, as Lambda sets `_X_AMZN_TRACE_ID` for a handler."""
    root = f"1-{int(time.time()):08x}-{os.urandom(12).hex()}"
    header = f"Root={root};Parent={os.urandom(8).hex()};Sampled=0"
    return f"{header};Lineage={format_lineage(lineage)}" if lineage else header


def setting(function: Function) -> str:
    """The function's RecursiveLoop: what PutFunctionRecursionConfig set, else the stack file's."""
    return function.recursive_loop or function.spec.recursive_loop


def stops(function: Function, lineage: Lineage) -> bool:
    """Whether Lambda stops this invocation: the function already ran LIMIT times in the chain and
    its recursive loop detection is `Terminate`."""
    return setting(function) == TERMINATE and count(lineage, function.arn) >= LIMIT


# -- Put/GetFunctionRecursionConfig -----------------------------------------------------------------


def _validation(value: Any, member: str, constraint: str) -> str:
    return validation_message([violation(value, member, constraint)])


async def answer(
    parts: Sequence[str],
    method: str,
    request: web.Request,
    function: Callable[[str], Function],
    error: Callable[[int, str, str], Exception],
) -> web.Response | None:
    """The response to Put/GetFunctionRecursionConfig, or None when the request is neither.

    `function(name)` looks the function up (raising the API's not-found error); `error(status,
    type, message)` makes the API's error to raise."""
    if len(parts) != 4 or parts[0] != "2024-08-31" or parts[1] != "functions" or parts[3] != "recursion-config":
        return None
    if method not in ("GET", "PUT"):
        return None
    from aiohttp import web  # here: stack.py imports this module for its constants

    name = parts[2]
    if not _FUNCTION_NAME.fullmatch(name):  # AWS validates FunctionName against the model's pattern
        constraint = f"Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}"
        raise error(400, "ValidationException", _validation(name, "functionName", constraint))
    value: Any = None
    if method == "PUT":  # the request is validated before the function is looked up, as on AWS
        try:
            body = await request.json()
        except ValueError as exc:
            message = f"Could not parse request body into json: {exc}"
            raise error(400, "InvalidRequestContentException", message) from exc
        value = body.get("RecursiveLoop") if isinstance(body, dict) else None
        if value is None:
            raise error(400, "ValidationException", _validation(None, "recursiveLoop", "Member must not be null"))
        if value not in RECURSIVE_LOOPS:
            raise error(
                400,
                "ValidationException",
                _validation(
                    value, "recursiveLoop", f"Member must satisfy enum value set: [{', '.join(RECURSIVE_LOOPS)}]"
                ),
            )
    target = function(name)
    if value is not None:
        target.recursive_loop = value
    return web.json_response({"RecursiveLoop": setting(target)})
