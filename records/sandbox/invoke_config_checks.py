"""What Lambda refuses in Put/UpdateFunctionEventInvokeConfig, in the order and the words AWS uses.

The wordings come from AWS-recorded responses (localstack's snapshot tests marked
`aws.validated`, tests/aws/services/lambda_/test_lambda_api.snapshot.json,
`test_lambda_eventinvokeconfig_exceptions`, recorded 2025-11-25) and from the botocore model of
the Lambda API (the range and pattern constraints of `MaximumRetryAttempts`,
`MaximumEventAgeInSeconds` and `DestinationArn`). In the order AWS checks them:

1. `ValidationException` (the request's shape, before anything else): "N validation error(s)
   detected: Value 'V' at 'member' failed to satisfy constraint: ...", several joined by "; ",
   members in the model's order (maximumRetryAttempts, maximumEventAgeInSeconds,
   destinationConfig.onSuccess.destination, destinationConfig.onFailure.destination).
2. `InvalidParameterValueException` "You must specify at least one of error handling or
   destination setting." when none of the three settings is given (even for an unknown function).
3. The function must exist (the caller answers per call, see `function_missing`).
4. Destinations (`InvalidParameterValueException`), OnFailure first: a Lambda function that does
   not exist, an SNS topic or EventBridge bus that does not exist -> "The destination ARN ARN is
   invalid."; the function itself -> "You can't specify the function as a destination for
   itself."; a service Lambda does not deliver to, or S3 on success -> "The provided destination
   config DestinationConfig(onSuccess=OnSuccess(destination=ARN), onFailure=null) is invalid."
   SQS queues and S3 buckets are not looked up: a missing one fails at delivery (delivery.py), as
   do FIFO queues and topics (AWS: "Capturing records of Lambda asynchronous invocations").
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from records.sandbox.api_errors import validation_message

# botocore's Lambda model, shape DestinationArn (the message quotes the pattern as the model has it).
DESTINATION_ARN_PATTERN = (
    r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:"
    r"((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)
_DESTINATION_ARN = re.compile(DESTINATION_ARN_PATTERN)
# botocore's Lambda model: MaximumRetryAttempts min 0 max 2, MaximumEventAgeInSeconds min 60 max 21600.
RANGES = {"MaximumRetryAttempts": (0, 2), "MaximumEventAgeInSeconds": (60, 21600)}
_SERVICES = {"sqs", "sns", "lambda", "events", "s3"}
_LOOKED_UP = {"sns", "events"}  # AWS answers "is invalid" for a missing topic or bus at config time

NO_SETTINGS = "You must specify at least one of error handling or destination setting."
SELF_DESTINATION = "You can't specify the function as a destination for itself."
FUNCTION_MISSING = "The function doesn't exist."


class Refused(Exception):
    """A refusal with AWS's error code and message (HTTP 400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _member(key: str) -> str:
    return key[0].lower() + key[1:]


def destinations(body: dict[str, Any]) -> dict[str, str | None]:
    """OnSuccess/OnFailure destination ARNs the body gives (None: the key is there without one)."""
    config = body.get("DestinationConfig")
    found: dict[str, str | None] = {}
    if not isinstance(config, dict):
        return found
    for key in ("OnSuccess", "OnFailure"):
        if key in config:
            value = config[key]
            destination = value.get("Destination") if isinstance(value, dict) else None
            found[key] = destination if isinstance(destination, str) and destination else None
    return found


def check_shape(body: dict[str, Any]) -> None:
    """Step 1 and 2: AWS's ValidationException, then the "at least one setting" refusal."""
    errors: list[str] = []
    for key, (low, high) in RANGES.items():
        value = body.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            continue  # absent (or not a number: see `check_types`)
        if value > high:
            errors.append(
                f"Value '{value}' at '{_member(key)}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {high}"
            )
        elif value < low:
            errors.append(
                f"Value '{value}' at '{_member(key)}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {low}"
            )
    config = body.get("DestinationConfig")
    if isinstance(config, dict):
        for key in ("OnSuccess", "OnFailure"):
            value = config.get(key)
            destination = value.get("Destination") if isinstance(value, dict) else None
            if isinstance(destination, str) and not _DESTINATION_ARN.fullmatch(destination):
                errors.append(
                    f"Value '{destination}' at 'destinationConfig.{_member(key)}.destination' failed to satisfy "
                    f"constraint: Member must satisfy regular expression pattern: {DESTINATION_ARN_PATTERN}"
                )
    if errors:
        raise Refused("ValidationException", validation_message(errors))
    if all(body.get(key) is None for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")):
        raise Refused("InvalidParameterValueException", NO_SETTINGS)


def check_types(body: dict[str, Any]) -> None:
    """Values of the wrong JSON type (botocore never sends them; the sandbox's own wording)."""
    for key in RANGES:
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise Refused("InvalidParameterValueException", f"{key} must be a whole number, got {value!r}")
    config = body.get("DestinationConfig")
    if config is not None and not isinstance(config, dict):
        raise Refused(
            "InvalidParameterValueException", "DestinationConfig must be an object with OnSuccess and OnFailure"
        )


async def check_destinations(
    function_name: str,
    found: dict[str, str | None],
    function_exists: Callable[[str], bool],
    resource_exists: Callable[[str], Awaitable[bool]] | None,
) -> None:
    """Step 4. `function_exists(arn)` names a function of the stack; `resource_exists(arn)` looks
    a topic or bus up in moto (None: not looked up)."""
    unsupported = False
    for key in ("OnFailure", "OnSuccess"):  # AWS looks at OnFailure first
        destination = found.get(key)
        if not destination:
            continue
        parts = destination.split(":")
        service = parts[2] if len(parts) > 5 and parts[0] == "arn" else ""
        if service not in _SERVICES or (service == "s3" and key == "OnSuccess"):
            unsupported = True
            continue
        if service == "lambda":
            if not function_exists(destination):
                raise Refused("InvalidParameterValueException", f"The destination ARN {destination} is invalid.")
            name = parts[6] if len(parts) > 6 else ""
            if name == function_name:
                raise Refused("InvalidParameterValueException", SELF_DESTINATION)
        elif service in _LOOKED_UP and resource_exists is not None and not await resource_exists(destination):
            raise Refused("InvalidParameterValueException", f"The destination ARN {destination} is invalid.")
    if unsupported:
        success, failure = found.get("OnSuccess"), found.get("OnFailure")
        on_success = f"OnSuccess(destination={success})" if success else "null"
        on_failure = f"OnFailure(destination={failure})" if failure else "null"
        raise Refused(
            "InvalidParameterValueException",
            f"The provided destination config DestinationConfig(onSuccess={on_success}, "
            f"onFailure={on_failure}) is invalid.",
        )


def function_missing(method: str, arn: str, qualifier: str | None) -> str:
    """AWS's 404 message for an event-invoke-config call on a function (or qualifier) that does not
    exist: Put, Update and List say the function does not exist; Get and Delete say it has no
    config (`arn` unqualified, `qualifier` None for $LATEST)."""
    if method in ("PUT", "POST", "LIST"):
        return FUNCTION_MISSING
    return f"The function {arn}:{qualifier or '$LATEST'} doesn't have an EventInvokeConfig"
