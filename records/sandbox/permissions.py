"""The IAM side of the sandbox: a role per function, KMS keys, rules, and the check Lambda's
delivery makes as that role (stack_faults.py describes the stack entries).

`create(stack, clients)` makes the keys, roles and rules in moto (tagged `lambdest-tui=sandbox`);
`Permissions.refusal(function, service, destination)` is the error AWS would answer when the
function's role may not send there (AccessDeniedException) or may not use the destination's KMS
key (KMS.AccessDeniedException), or None. It reads the role's inline and attached policies and the
key policy from moto (cached for a second, so a policy changed through the API counts soon), with
this plain reading: Allow/Deny, Action, Resource and Principal with wildcards; a statement with a
Condition is not counted. Resource policies of queues and topics are not read.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from records.sandbox.stack import Stack
from records.sandbox.stack_faults import KMS_ACTIONS

T = TypeVar("T")
TAGS = [{"Key": "lambdest-tui", "Value": "sandbox"}]
ACTIONS = {
    "sqs": "sqs:SendMessage",
    "sns": "sns:Publish",
    "events": "events:PutEvents",
    "lambda": "lambda:InvokeFunction",
    "s3": "s3:PutObject",
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
# What the account root keeps on a key whose policy names its users (everything but using it).
KEY_ADMIN = ["kms:Describe*", "kms:Get*", "kms:List*", "kms:Put*", "kms:Create*", "kms:Enable*", "kms:Disable*",
             "kms:Update*", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
             "kms:CancelKeyDeletion"]  # fmt: skip


def resource(service: str, arn: str) -> str:
    return f"arn:aws:s3:::{arn.rsplit(':', 1)[-1].split('/', 1)[0]}/*" if service == "s3" else arn


def role_name(function: str) -> str:
    return f"lambdest-sandbox-{function}"


def _destination_key(stack: Stack, arn: str) -> str | None:
    parts = arn.split(":")
    kind = {"sqs": "queue", "sns": "topic"}.get(parts[2]) if len(parts) > 5 else None
    return stack.faults.key_of(kind, parts[5]) if kind else None


def key_policy(stack: Stack, users: tuple[str, ...] | None) -> dict[str, Any]:
    root = f"arn:aws:iam::{stack.account}:root"
    if users is None:
        statements = [{"Sid": "iam", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"}]
    else:
        statements = [
            {"Sid": "admin", "Effect": "Allow", "Principal": {"AWS": root}, "Action": KEY_ADMIN, "Resource": "*"}
        ]
        if users:
            roles = [stack.role_arn(user) for user in users]
            statements.append(
                {
                    "Sid": "use",
                    "Effect": "Allow",
                    "Principal": {"AWS": roles},
                    "Action": list(KMS_ACTIONS),
                    "Resource": "*",
                }
            )
    return {"Version": "2012-10-17", "Statement": statements}


async def create_keys(stack: Stack, clients: dict[str, Any]) -> dict[str, str]:
    """The stack's KMS keys (alias/NAME); key name -> key ARN."""
    arns: dict[str, str] = {}
    for key in stack.faults.keys:
        metadata = (
            await clients["kms"].create_key(
                Description=f"lambdest-tui sandbox key {key.name}",
                Policy=json.dumps(key_policy(stack, key.users)),
                Tags=[{"TagKey": "lambdest-tui", "TagValue": "sandbox"}],
            )
        )["KeyMetadata"]
        await clients["kms"].create_alias(AliasName=f"alias/{key.name}", TargetKeyId=metadata["KeyId"])
        arns[key.name] = str(metadata["Arn"])
    return arns


async def create_roles(stack: Stack, clients: dict[str, Any], keys: dict[str, str]) -> None:
    """A role per function with what its destinations and its dead-letter queue need, minus the
    stack's `deny`."""
    iam = clients["iam"]
    for spec in stack.functions:
        name = role_name(spec.name)
        await iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST), Tags=TAGS)
        statements = []
        for destination in (spec.on_success, spec.on_failure, spec.dead_letter):
            if not destination or destination.count(":") < 5:
                continue
            service = destination.split(":")[2]
            needed = [ACTIONS[service]] if service in ACTIONS else []
            key = _destination_key(stack, destination)
            wanted = [a for a in needed if a not in spec.deny]
            if wanted:
                statements.append({"Effect": "Allow", "Action": wanted, "Resource": resource(service, destination)})
            kms = [a for a in KMS_ACTIONS if a not in spec.deny]
            if key and kms:
                statements.append({"Effect": "Allow", "Action": kms, "Resource": keys[key]})
        if statements:
            document = {"Version": "2012-10-17", "Statement": statements}
            await iam.put_role_policy(RoleName=name, PolicyName="destinations", PolicyDocument=json.dumps(document))


async def create_rules(stack: Stack, clients: dict[str, Any]) -> None:
    for rule in stack.faults.rules:
        await clients["events"].put_rule(
            Name=rule.name, EventBusName=rule.bus, EventPattern=rule.pattern, State="ENABLED", Tags=TAGS
        )


def _values(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [] if value is None else [str(value)]


def _decide(statements: list[dict[str, Any]], action: str, target: str, principal: str | None = None) -> str:
    """ "allow", "deny" or "none" (a statement with a Condition is not counted)."""
    found = "none"
    for statement in statements:
        if statement.get("Condition"):
            continue
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _values(statement.get("Action"))):
            continue
        if not any(fnmatch.fnmatchcase(target, r) for r in _values(statement.get("Resource", "*"))):
            continue
        if principal is not None:
            who = statement.get("Principal")
            names = _values(who.get("AWS")) if isinstance(who, dict) else _values(who)
            if principal not in names and "*" not in names:
                continue
        if statement.get("Effect") == "Deny":
            return "deny"
        found = "allow" if statement.get("Effect") == "Allow" else found
    return found


def _statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        document = json.loads(document)
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    return [statements] if isinstance(statements, dict) else list(statements)


class Permissions:
    """What the function's role may do, read from moto's IAM and KMS (cached `ttl` seconds)."""

    def __init__(self, stack: Stack, clients: dict[str, Any], ttl: float = 1.0) -> None:
        self.stack = stack
        self.clients = clients
        self.ttl = ttl
        self._cache: dict[str, tuple[float, asyncio.Task[Any]]] = {}

    def _cached(self, key: str, read: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        now = time.monotonic()
        found = self._cache.get(key)
        if found is None or found[0] < now or (found[1].done() and found[1].exception() is not None):
            found = (now + self.ttl, asyncio.ensure_future(read()))
            self._cache[key] = found
        return found[1]

    async def _role(self, function: str) -> list[dict[str, Any]]:
        iam, name = self.clients["iam"], role_name(function)

        async def read() -> list[dict[str, Any]]:
            statements: list[dict[str, Any]] = []
            for policy in (await iam.list_role_policies(RoleName=name)).get("PolicyNames", []):
                document = (await iam.get_role_policy(RoleName=name, PolicyName=policy))["PolicyDocument"]
                statements.extend(_statements(document))
            for item in (await iam.list_attached_role_policies(RoleName=name)).get("AttachedPolicies", []):
                version = (await iam.get_policy(PolicyArn=item["PolicyArn"]))["Policy"]["DefaultVersionId"]
                document = await iam.get_policy_version(PolicyArn=item["PolicyArn"], VersionId=version)
                statements.extend(_statements(document["PolicyVersion"]["Document"]))
            return statements

        return await self._cached(f"role:{name}", read)

    async def _key(self, service: str, destination: str) -> tuple[str, list[dict[str, Any]]] | None:
        """The destination's customer managed key ARN and its policy, or None."""

        async def read() -> tuple[str, list[dict[str, Any]]] | None:
            if service == "sqs":
                sqs = self.clients["sqs"]
                url = (await sqs.get_queue_url(QueueName=destination.split(":")[5]))["QueueUrl"]
                attributes = (await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["KmsMasterKeyId"])).get(
                    "Attributes", {}
                )
            else:
                attributes = (await self.clients["sns"].get_topic_attributes(TopicArn=destination))["Attributes"]
            key = attributes.get("KmsMasterKeyId")
            if not key or "alias/aws/" in key:
                return None
            metadata = (await self.clients["kms"].describe_key(KeyId=key))["KeyMetadata"]
            policy = (await self.clients["kms"].get_key_policy(KeyId=metadata["KeyId"], PolicyName="default"))["Policy"]
            return str(metadata["Arn"]), _statements(policy)

        return await self._cached(f"key:{destination}", read)

    async def refusal(self, function: str, service: str, destination: str) -> str | None:
        """AWS's error when the role of `function` may not deliver to `destination`; None when it may."""
        action = ACTIONS.get(service)
        if action is None:
            return None
        who = f"arn:aws:sts::{self.stack.account}:assumed-role/{role_name(function)}/{function}"
        role = await self._role(function)
        if _decide(role, action, resource(service, destination)) != "allow":
            return (
                f"AccessDeniedException: User: {who} is not authorized to perform: {action} on resource: "
                f"{destination} because no identity-based policy allows the {action} action"
            )
        if service not in ("sqs", "sns"):
            return None
        try:
            key = await self._key(service, destination)
        except Exception:  # a missing queue or topic: delivery itself reports it
            return None
        if key is None:
            return None
        arn, policy = key
        root = f"arn:aws:iam::{self.stack.account}:root"
        for kms_action in KMS_ACTIONS:
            direct = _decide(policy, kms_action, arn, self.stack.role_arn(function))
            via_iam = _decide(policy, kms_action, arn, root) == "allow" and _decide(role, kms_action, arn) == "allow"
            if direct == "deny" or not (direct == "allow" or via_iam):
                return (
                    f"KMS.AccessDeniedException: User: {who} is not authorized to perform: {kms_action} on resource: "
                    f"{arn} because no identity-based policy allows the {kms_action} action"
                )
        return None
