"""UpdateFunctionConfiguration, for what the sandbox can apply: the dead-letter queue, the timeout
and the description.

  PUT /2015-03-31/functions/{name}/configuration   UpdateFunctionConfiguration

  DeadLetterConfig.TargetArn  an SQS queue or SNS topic ARN (dead_letter.py sends to it); "" or no
                              TargetArn removes the dead-letter queue
  Timeout                     1-900 seconds, applied to the next run
  Description                 at most 256 characters

Validation as AWS does it, checked before anything changes (the botocore model's shapes
ResourceArn, Timeout and Description; AWS's wording of a role that may not send to the queue or
topic, "The provided execution role does not have permissions to call SendMessage on SQS", as AWS
answers it). Any other field of the call (MemorySize, Environment, Role, Handler...) is refused with
InvalidParameterValueException: the sandbox cannot apply it, and a test that set it would lie.

`LambdaApi._lambda` calls `answer(...)` first; it answers None for any other request.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from records.sandbox.api_errors import LambdaApiError, invalid, validation_error, violation
from records.sandbox.runtime import Function

if TYPE_CHECKING:
    from records.sandbox.permissions import Permissions

__all__ = ["answer"]

# The botocore model's ResourceArn pattern (DeadLetterConfig.TargetArn).
TARGET_ARN = re.compile(r"(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()")
APPLIED = ("DeadLetterConfig", "Timeout", "Description")
_ALWAYS_SENT = {"FunctionName"}  # in the path; a body may repeat it
# The action and AWS's names for it in "does not have permissions to call SendMessage on SQS"
_CALLS = {"sqs": ("SendMessage", "SQS"), "sns": ("Publish", "SNS")}


def _validation(value: Any, where: str, constraint: str) -> LambdaApiError:
    # AWS's wording of a value outside the model's constraints (as for event-invoke configs)
    return validation_error([violation(value, where, constraint)])


def _target(body: dict[str, Any]) -> str | None:
    """The new dead-letter target ("" removes it), or None when the body does not set one."""
    config = body["DeadLetterConfig"]
    if not isinstance(config, dict):
        raise invalid("DeadLetterConfig must be an object with TargetArn")
    target = config.get("TargetArn", "")
    if not isinstance(target, str) or not TARGET_ARN.fullmatch(target):
        raise _validation(
            target,
            "deadLetterConfig.targetArn",
            f"Member must satisfy regular expression pattern: {TARGET_ARN.pattern}",
        )
    if target and target.split(":")[2] not in _CALLS:
        raise invalid(
            f"The dead-letter queue ARN {target} is invalid: a dead-letter queue is an Amazon SQS queue "
            "or an Amazon SNS topic (the lambdest-tui sandbox's wording)"
        )
    return target


async def _check_role(function: Function, target: str, permissions: Permissions | None) -> None:
    """AWS checks, when the DLQ is set, that the function's role may send to it."""
    if permissions is None or not target:
        return
    service = target.split(":")[2]
    refusal = await permissions.refusal(function.name, service, target)
    if refusal is not None and refusal.startswith("AccessDeniedException"):
        action, name = _CALLS[service]
        raise invalid(f"The provided execution role does not have permissions to call {action} on {name}")


async def _update(function: Function, body: dict[str, Any], permissions: Permissions | None) -> None:
    refused = sorted(set(body) - set(APPLIED) - _ALWAYS_SENT)
    if refused:
        raise invalid(
            f"The lambdest-tui sandbox cannot apply {', '.join(refused)}: its UpdateFunctionConfiguration "
            "changes only DeadLetterConfig, Timeout and Description"
        )
    target = _target(body) if "DeadLetterConfig" in body else None
    timeout = body.get("Timeout")
    if "Timeout" in body:
        if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 1:
            raise _validation(timeout, "timeout", "Member must have value greater than or equal to 1")
        if timeout > 900:
            raise _validation(timeout, "timeout", "Member must have value less than or equal to 900")
    description = body.get("Description")
    if "Description" in body and (not isinstance(description, str) or len(description) > 256):
        raise _validation(description, "description", "Member must have length less than or equal to 256")
    if target is not None:
        await _check_role(function, target, permissions)
    # everything checked: apply
    if target is not None:
        function.dead_letter = target or None
    if isinstance(timeout, int):
        function.spec = dataclasses.replace(function.spec, timeout=float(timeout))
    if isinstance(description, str):
        function.description = description
    function.last_modified = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


async def answer(
    parts: Sequence[str],
    request: web.Request,
    function_of: Callable[[str], Function],
    configuration: Callable[[Function], dict[str, Any]],
    permissions: Permissions | None = None,
) -> web.Response | None:
    """The response to UpdateFunctionConfiguration, or None when the request is not one.
    `function_of(name)` raises the API's not-found error; refusals raise `LambdaApiError`."""
    if request.method != "PUT" or len(parts) != 4 or tuple(parts[:2]) != ("2015-03-31", "functions"):
        return None
    if parts[3] != "configuration":
        return None
    function = function_of(parts[2])
    try:
        body = await request.json()
    except ValueError as exc:
        message = f"Could not parse request body into json: {exc}"
        raise LambdaApiError(400, "InvalidRequestContentException", message) from exc
    if not isinstance(body, dict):
        raise LambdaApiError(400, "InvalidRequestContentException", "the request body must be a JSON object")
    await _update(function, body, permissions)
    return web.json_response(configuration(function))
