"""The sandbox's Lambda API error answers, in AWS's shape: one exception every route raises.

`x-amzn-ErrorType` names the error; the body is `{"Type": "User", "message": ...}`, except where
AWS's recorded answers differ: ResourceNotFoundException spells its key "Message", and a
ValidationException (the request's shape, checked before Lambda) has no "Type". A throttle also
carries its `Reason`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["LambdaApiError", "invalid", "validation_error", "validation_message", "violation"]


class LambdaApiError(Exception):
    """An error answer: HTTP status, AWS error type, AWS message (and a throttle's reason)."""

    def __init__(self, status: int, error_type: str, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.reason = reason  # a throttle's Reason (ThrottleReason in botocore's model)

    def response(self) -> web.Response:
        from aiohttp import web  # only the endpoint answers; recursion and the checks need no aiohttp

        # AWS's bodies (AWS-recorded responses): ResourceNotFoundException spells its key "Message",
        # a ValidationException (the request's shape, checked before Lambda) has no "Type".
        body: dict[str, str] = {"Type": "User", "message": self.message}
        if self.error_type == "ResourceNotFoundException":
            body = {"Type": "User", "Message": self.message}
        elif self.error_type == "ValidationException":
            body = {"message": self.message}
        if self.reason is not None:
            body = {"Reason": self.reason, **body}
        return web.json_response(
            body,
            status=self.status,
            headers={"x-amzn-ErrorType": self.error_type, "x-amzn-RequestId": str(uuid.uuid4())},
        )


def invalid(message: str) -> LambdaApiError:
    """400 InvalidParameterValueException with `message`."""
    return LambdaApiError(400, "InvalidParameterValueException", message)


def violation(value: Any, member: str, constraint: str) -> str:
    """One value outside the API model, in AWS's words: "Value '3' at 'maximumRetryAttempts' failed to
    satisfy constraint: Member must have value less than or equal to 2" (None is `null`)."""
    shown = "null" if value is None else f"'{value}'"
    return f"Value {shown} at '{member}' failed to satisfy constraint: {constraint}"


def validation_message(violations: Sequence[str]) -> str:
    """AWS's ValidationException message: "1 validation error detected: ..." or "2 validation errors
    detected: ...; ..."."""
    count = len(violations)
    return f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(violations)


def validation_error(violations: Sequence[str]) -> LambdaApiError:
    """400 ValidationException with `validation_message(violations)`."""
    return LambdaApiError(400, "ValidationException", validation_message(violations))
