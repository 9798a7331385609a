"""Published versions and aliases of a sandbox function, and the view of the function each qualifier runs.

A qualifier is what a caller names after the function: `order:1` (a published version), `order:live`
(an alias) or `order:$LATEST` (the same as no qualifier). As on Lambda:

- PublishVersion snapshots the function's configuration (handler, timeout...) as version "1", "2"...
  and publishes nothing new while the configuration is unchanged (it answers the last version).
  The sandbox has no code packages: every version runs the stack's handler, as loaded at start.
- An alias points at one version ("$LATEST" included); no weighted routing.
- Each qualifier has its own FunctionEventInvokeConfig: `$LATEST`'s is `Function.config`, the others
  are kept here by version number or alias name. An event sent to `order:live` gets the alias's.

`Function.at(qualifier)` (runtime.py) is the function as invoked through a qualifier: a `Function`
sharing the function's `Qualifiers`, with the version's configuration, `qualifier` set (records name
the qualified ARN `...:function:order:live`) and `version` the version that runs ("1").
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

LATEST = "$LATEST"
DESCRIPTION = "run by the lambdest-tui sandbox"
# The botocore model's patterns (data/lambda/2015-03-31/service-2.json, shapes Alias and
# VersionWithLatestPublished), quoted in AWS's ValidationException messages.
ALIAS_PATTERN = r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
VERSION_PATTERN = r"(\$LATEST(\.PUBLISHED)?|[0-9]+)"

S = TypeVar("S")  # a function's configuration (stack.FunctionSpec)
C = TypeVar("C")  # an event-invoke config (runtime.EventInvokeConfig)


def stamp() -> str:
    """Lambda's LastModified format, e.g. 2026-12-01T09:00:00.000+0000."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def revision() -> str:
    return str(uuid.uuid4())


@dataclass(slots=True)
class PublishedVersion(Generic[S]):
    number: str
    spec: S  # the function's configuration when it was published
    description: str
    last_modified: str = field(default_factory=stamp)
    revision_id: str = field(default_factory=revision)


@dataclass(slots=True)
class Alias:
    name: str
    version: str  # a version number or "$LATEST"
    description: str = ""
    revision_id: str = field(default_factory=revision)


@dataclass(slots=True)
class Qualifiers(Generic[S, C]):
    """A function's versions, aliases and the event-invoke configs of both (shared by its views)."""

    versions: dict[str, PublishedVersion[S]] = field(default_factory=dict)
    aliases: dict[str, Alias] = field(default_factory=dict)
    configs: dict[str, C] = field(default_factory=dict)  # version number or alias name -> its config


def valid_alias_name(name: str) -> bool:
    return 1 <= len(name) <= 128 and re.fullmatch(ALIAS_PATTERN, name) is not None


def publish(published: Qualifiers[S, C], spec: S, description: str | None = None) -> PublishedVersion[S]:
    """Publish `spec` (the function's current configuration) as the next version; the last version
    again when nothing changed since it was published (Lambda's PublishVersion)."""
    if published.versions:
        last = published.versions[max(published.versions, key=int)]
        if last.spec == spec:
            return last
    number = str(len(published.versions) + 1)
    version = PublishedVersion(number, spec, description or DESCRIPTION)
    published.versions[number] = version
    return version


def resolve(published: Qualifiers[S, C], qualifier: str) -> tuple[str, PublishedVersion[S] | None] | None:
    """(the version a qualifier runs, that published version or None for "$LATEST"); None when
    the function has no such version or alias."""
    version: str | None = qualifier
    if qualifier != LATEST and not qualifier.isdigit():
        alias = published.aliases.get(qualifier)
        version = alias.version if alias is not None else None
    if version is None:
        return None
    if version == LATEST:
        return LATEST, None
    found = published.versions.get(version)
    return (version, found) if found is not None else None


def set_up(published: Qualifiers[S, C], spec: S, versions: int, aliases: tuple[tuple[str, str], ...]) -> None:
    """Publish the versions and create the aliases a stack file declares for a function."""
    for _ in range(versions):
        publish(published, spec)
    for name, version in aliases:
        published.aliases[name] = Alias(name, version)


class QualifierMismatch(ValueError):
    """A qualifier in the function name and a different one in `Qualifier` (AWS's sentence)."""

    def __init__(self) -> None:
        # AWS's message, as recorded from AWS in localstack's test_lambda_api.snapshot.json
        # (test_ops_with_arn_qualifier_mismatch).
        super().__init__("The derived qualifier from the function name does not match the specified qualifier.")


def split_name(name: str) -> tuple[str, str | None]:
    """`order`, `order:live`, `123456789012:function:order[:live]` or
    `arn:aws:lambda:REGION:ACCOUNT:function:order[:live]` -> ("order", "live" or None)."""
    if ":function:" in name:
        name = name.split(":function:", 1)[1]
    function, _, qualifier = name.partition(":")
    return function, qualifier or None


def requested(name: str, asked: str | None) -> tuple[str, str | None]:
    """The function and qualifier a call names, from its FunctionName and its `Qualifier` parameter.
    Raises QualifierMismatch when both name one and they differ."""
    function, derived = split_name(name)
    if derived is not None and asked is not None and derived != asked:
        raise QualifierMismatch
    return function, derived if derived is not None else asked
