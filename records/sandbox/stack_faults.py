"""The stack file's faults to practise on: what the sandbox breaks on purpose, as it breaks on AWS.

    [[functions]]
    name = "order"
    deny = ["sqs:SendMessage"]       # actions taken out of the IAM role the sandbox makes for it

    [[keys]]                         # a customer managed KMS key, alias/NAME
    name = "failures-key"
    users = ["rollback-order"]       # optional: the key policy lets only these functions' roles use it;
                                     # omitted: the key policy hands the decision to IAM, and each role
                                     # gets kms:GenerateDataKey and kms:Decrypt on its destinations' keys

    [[queues]]                       # also [[topics]]
    name = "order-failures"
    kms_key = "failures-key"         # encrypted with that key (KmsMasterKeyId)

    [[rules]]                        # an EventBridge rule on a declared bus (or "default")
    bus = "orders"
    name = "aws-lambda-only"
    pattern = '{"source": ["aws.lambda"]}'   # JSON; this one never matches Lambda's records

Each function gets the role `lambdest-sandbox-NAME` (`Stack.role_arn`) allowing what its
destinations need (sqs:SendMessage, sns:Publish, events:PutEvents, lambda:InvokeFunction,
s3:PutObject, and the KMS actions of encrypted destinations) minus `deny`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KMS_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


class FaultError(ValueError):
    """A fault entry is not valid; the message says where and why (raised as StackError)."""


@dataclass(frozen=True, slots=True)
class KeySpec:
    name: str
    users: tuple[str, ...] | None = None  # None: the key policy delegates to IAM (the account root)


@dataclass(frozen=True, slots=True)
class RuleSpec:
    bus: str
    name: str
    pattern: str  # JSON text


@dataclass(frozen=True, slots=True)
class Faults:
    keys: tuple[KeySpec, ...] = ()
    encryption: tuple[tuple[str, str], ...] = ()  # ("queue:NAME" | "topic:NAME", key name) pairs
    rules: tuple[RuleSpec, ...] = ()

    def key_of(self, kind: str, name: str) -> str | None:
        """The key name a queue or topic is encrypted with, or None."""
        return dict(self.encryption).get(f"{kind}:{name}")


def deny_list(entry: dict[str, Any], where: str) -> tuple[str, ...]:
    deny = entry.get("deny", [])
    if not isinstance(deny, list) or not all(isinstance(a, str) and ":" in a for a in deny):
        raise FaultError(f'{where}: deny must be a list of actions such as ["sqs:SendMessage"]')
    return tuple(deny)


def parse_faults(data: dict[str, Any], file: Path, functions: set[str], buses: tuple[str, ...]) -> Faults:
    keys: list[KeySpec] = []
    for index, entry in enumerate(data.get("keys", [])):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            raise FaultError(f"{file}: keys[{index}] needs a name")
        users = entry.get("users")
        if users is not None and (not isinstance(users, list) or not set(users) <= functions):
            raise FaultError(f"{file}: keys[{index}].users must list functions the stack declares")
        keys.append(KeySpec(name, tuple(users) if users is not None else None))
    names = {key.name for key in keys}
    encryption: list[tuple[str, str]] = []
    for table, kind in (("queues", "queue"), ("topics", "topic")):
        for index, entry in enumerate(data.get(table, [])):
            key = entry.get("kms_key") if isinstance(entry, dict) else None
            if key is None:
                continue
            if key not in names:
                raise FaultError(f"{file}: {table}[{index}].kms_key {key!r} is not a declared [[keys]] entry")
            name = str(entry["name"])
            if kind == "queue" and entry.get("fifo") and not name.endswith(".fifo"):
                name += ".fifo"
            encryption.append((f"{kind}:{name}", key))
    rules: list[RuleSpec] = []
    for index, entry in enumerate(data.get("rules", [])):
        where = f"{file}: rules[{index}]"
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("bus", "name", "pattern")):
            raise FaultError(f'{where} needs bus = "...", name = "..." and pattern = \'{{...}}\'')
        if entry["bus"] != "default" and entry["bus"] not in buses:
            raise FaultError(f"{where}: bus {entry['bus']!r} is not a declared [[buses]] entry")
        try:
            pattern = json.loads(entry["pattern"])
        except ValueError as exc:
            raise FaultError(f"{where}: pattern is not JSON: {exc}") from exc
        if not isinstance(pattern, dict):
            raise FaultError(f"{where}: pattern must be a JSON object")
        rules.append(RuleSpec(entry["bus"], entry["name"], entry["pattern"]))
    return Faults(tuple(keys), tuple(encryption), tuple(rules))
