"""Reading IAM policy documents: does a statement set allow an action on a resource?

This is a plain reading, not AWS's evaluator (the doctor asks iam:SimulatePrincipalPolicy first
when the caller may): Allow/Deny, Action/NotAction, Resource/NotResource with `*` and `?`
wildcards, Principal for resource policies, and the conditions `StringEquals`, `StringLike`,
`ArnEquals`, `ArnLike` on the context keys given. Any other condition makes a statement
"conditional": it is neither counted as a grant nor as a denial, and the answer says so. Permission
boundaries, SCPs and session policies are not read.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote

Decision = Literal["allow", "deny", "none"]
_SUPPORTED = {"stringequals", "stringlike", "arnequals", "arnlike"}


@dataclass(frozen=True, slots=True)
class Answer:
    decision: Decision
    conditional: bool = False  # a statement might have decided, but its conditions were not evaluated


def parse(document: str | Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The statements of a policy document (JSON text, URL-encoded JSON as IAM returns it, or a dict)."""
    if document is None:
        return []
    if isinstance(document, str):
        text = document if document.lstrip().startswith("{") else unquote(document)
        try:
            document = json.loads(text)
        except ValueError:
            return []
    if not isinstance(document, Mapping):
        return []
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    return [dict(s) for s in statements if isinstance(s, Mapping)] if isinstance(statements, list) else []


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)]


def _action_matches(patterns: Any, action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in _values(patterns))


def _resource_matches(patterns: Any, resource: str) -> bool:
    return any(fnmatch.fnmatchcase(resource, pattern) for pattern in _values(patterns))


def principal_matches(principal: Any, arn: str) -> bool:
    """Whether a resource policy's Principal names `arn` (a role ARN, or a service such as
    `sns.amazonaws.com`), its account or everyone."""
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if not arn.startswith("arn:"):
        return arn in _values(principal.get("Service")) or "*" in _values(principal.get("AWS"))
    account = arn.split(":")[4] if arn.count(":") >= 5 else ""
    names = ("*", arn, account, f"arn:aws:iam::{account}:root")
    return any(value in names for value in _values(principal.get("AWS")))


def _condition(condition: Any, context: Mapping[str, str]) -> bool | None:
    """True/False when every condition could be evaluated; None when one could not."""
    if not condition:
        return True
    if not isinstance(condition, Mapping):
        return None
    keys = {key.lower(): value for key, value in context.items()}
    for operator, tests in condition.items():
        if operator.lower() not in _SUPPORTED or not isinstance(tests, Mapping):
            return None
        for key, expected in tests.items():
            actual = keys.get(key.lower())
            if actual is None:  # a key the request does not carry: the condition is false, as on AWS
                return False
            like = operator.lower().endswith("like")
            if not any(
                fnmatch.fnmatchcase(actual, pattern) if like else actual == pattern for pattern in _values(expected)
            ):
                return False
    return True


def evaluate(
    statements: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    principal: str | None = None,
    context: Mapping[str, str] | None = None,
) -> Answer:
    """Allow, deny or neither (`none`: implicitly denied). `principal`: check the Principal element
    (resource and key policies); None for identity policies."""
    allowed = denied = conditional = False
    for statement in statements:
        if "NotAction" in statement:
            if _action_matches(statement["NotAction"], action):
                continue
        elif not _action_matches(statement.get("Action"), action):
            continue
        if "NotResource" in statement:
            if _resource_matches(statement["NotResource"], resource):
                continue
        elif "Resource" in statement and not _resource_matches(statement["Resource"], resource):
            continue
        if principal is not None and not principal_matches(statement.get("Principal"), principal):
            continue
        met = _condition(statement.get("Condition"), context or {})
        if met is None:
            conditional = True
            continue
        if not met:
            continue
        if str(statement.get("Effect", "")).lower() == "deny":
            denied = True
        elif str(statement.get("Effect", "")).lower() == "allow":
            allowed = True
    if denied:
        return Answer("deny", conditional)
    return Answer("allow" if allowed else "none", conditional)


def names_root(statement: Mapping[str, Any], account: str) -> bool:
    """A key policy statement that delegates to IAM (Principal: the account root)."""
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping):
        return False
    return any(value in (account, f"arn:aws:iam::{account}:root") for value in _values(principal.get("AWS")))
