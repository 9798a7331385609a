"""May the function's execution role send to a destination, and use the destination's KMS key?

The role: iam:SimulatePrincipalPolicy (AWS's own evaluator) where the caller may call it; otherwise
the role's inline and attached policies are read (`policy.py`) together with the destination's own
policy, and an action no statement allows is reported as "likely" missing. The key: its key policy
(a statement naming the role, or the account root, which hands the decision to the role's policies).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from records.discovery import short_name as short
from records.doctor.calls import Calls, Denied, Missing, Unavailable
from records.doctor.findings import Finding, noun
from records.doctor.policy import Answer, evaluate, names_root, parse

# What Lambda does with a record, per destination service (the permission the role needs).
ACTIONS = {
    "sqs": "sqs:SendMessage",
    "sns": "sns:Publish",
    "events": "events:PutEvents",
    "lambda": "lambda:InvokeFunction",
    "s3": "s3:PutObject",
}
KMS_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


@dataclass(frozen=True, slots=True)
class Subject:
    """One function qualifier sending to one destination, and the role it sends as."""

    function: str
    qualifier: str | None
    role: str | None  # the execution role ARN
    kind: str
    destination: str

    def finding(self, check: str, status: str, message: str, fix: str | None = None) -> Finding:
        return Finding(self.function, self.qualifier, check, status, self.destination, message, fix)  # type: ignore[arg-type]

    @property
    def what(self) -> str:
        return f"{noun(self.kind)} {short(self.destination)}"

    @property
    def role_name(self) -> str:
        return (self.role or "").rsplit("/", 1)[-1]


def resource(kind: str, arn: str) -> str:
    if kind == "s3":
        return f"arn:aws:s3:::{arn.rsplit(':', 1)[-1].split('/', 1)[0]}/*"
    return arn


def grant_command(role: str, actions: list[str], resource_arn: str) -> str:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource_arn}],
    }
    return (
        f"aws iam put-role-policy --role-name {role} --policy-name lambda-destinations "
        f"--policy-document '{json.dumps(document, separators=(',', ':'))}'"
    )


async def role_statements(calls: Calls, role_name: str) -> list[dict[str, Any]]:
    """Every statement of the role's inline and attached policies (cached per role); Denied names
    the read the caller may not make."""

    async def read() -> list[dict[str, Any]]:
        statements: list[dict[str, Any]] = []
        names: list[str] = []
        marker: dict[str, Any] = {}
        while True:
            page = await calls.call("iam", "list_role_policies", RoleName=role_name, **marker)
            names.extend(page.get("PolicyNames", []))
            if not page.get("IsTruncated"):
                break
            marker = {"Marker": page["Marker"]}
        attached: list[str] = []
        marker = {}
        while True:
            page = await calls.call("iam", "list_attached_role_policies", RoleName=role_name, **marker)
            attached.extend(item["PolicyArn"] for item in page.get("AttachedPolicies", []))
            if not page.get("IsTruncated"):
                break
            marker = {"Marker": page["Marker"]}
        for name in names:
            inline = await calls.call("iam", "get_role_policy", RoleName=role_name, PolicyName=name)
            statements.extend(parse(inline.get("PolicyDocument")))
        for arn in attached:
            policy = await calls.call("iam", "get_policy", PolicyArn=arn)
            version = policy["Policy"].get("DefaultVersionId", "v1")
            document = await calls.call("iam", "get_policy_version", PolicyArn=arn, VersionId=version)
            statements.extend(parse(document["PolicyVersion"].get("Document")))
        return statements

    return await calls.once(f"role:{role_name}", read)


async def simulate(calls: Calls, role: str, action: str, resource_arn: str) -> str | None:
    """AWS's decision (allowed, explicitDeny, implicitDeny) or None when the simulator cannot be used."""
    if "simulator:off" in calls.cache:
        return None
    try:
        response = await calls.call(
            "iam",
            "simulate_principal_policy",
            single=True,
            PolicySourceArn=role,
            ActionNames=[action],
            ResourceArns=[resource_arn],
        )
        results = response.get("EvaluationResults") or []
        return str(results[0]["EvalDecision"]) if results else None
    except (Denied, Unavailable, Missing):
        calls.once("simulator:off", _nothing)  # one failed try is enough for this run
        return None


async def _nothing() -> None:
    return None


async def role_permission(calls: Calls, subject: Subject, destination_policy: list[dict[str, Any]]) -> Finding:
    action = ACTIONS[subject.kind]
    target = resource(subject.kind, subject.destination)
    cause = f"{subject.function} cannot send its records to {subject.what}"
    fix = grant_command(subject.role_name, [action], target)
    if not subject.role:
        return subject.finding("role-permission", "unknown", f"the execution role of {subject.function} is unknown")
    decision = await simulate(calls, subject.role, action, target)
    if decision == "allowed":
        return subject.finding(
            "role-permission",
            "pass",
            f"role {subject.role_name} of {subject.function} may {action} on {subject.what}"
            " (iam:SimulatePrincipalPolicy)",
        )
    if decision is not None:
        return subject.finding(
            "role-permission",
            "problem",
            f"{cause}: AWS's policy simulator says role {subject.role_name} may not {action} ({decision})",
            fix,
        )
    try:
        own = evaluate(await role_statements(calls, subject.role_name), action, target)
    except Denied as exc:
        return subject.finding(
            "role-permission",
            "unknown",
            f"cannot tell whether role {subject.role_name} of {subject.function} may {action} on {subject.what}: "
            f"the caller may neither simulate its policies (iam:SimulatePrincipalPolicy) nor read them "
            f"({exc.permission})",
        )
    except (Missing, Unavailable) as exc:
        return subject.finding(
            "role-permission",
            "problem" if isinstance(exc, Missing) else "unknown",
            f"{cause}: its execution role {subject.role_name} "
            + ("does not exist" if isinstance(exc, Missing) else f"cannot be read ({exc})"),
        )
    account = subject.role.split(":")[4] if subject.role.count(":") >= 5 else ""
    context = {"aws:PrincipalArn": subject.role, "aws:PrincipalAccount": account}
    theirs = evaluate(destination_policy, action, target, principal=subject.role, context=context)
    if own.decision == "deny" or theirs.decision == "deny":
        where = "its role's policies" if own.decision == "deny" else f"the policy of {subject.what}"
        return subject.finding(
            "role-permission",
            "problem",
            f"{cause}: {where} explicitly deny {action} to role {subject.role_name}",
            f"remove the Deny of {action} from {where}",
        )
    if own.decision == "allow" or theirs.decision == "allow":
        return subject.finding(
            "role-permission",
            "pass",
            f"role {subject.role_name} of {subject.function} may {action} on {subject.what} (read from its policies)",
        )
    if own.conditional or theirs.conditional:
        return subject.finding(
            "role-permission",
            "unknown",
            f"role {subject.role_name} of {subject.function} may {action} on {subject.what} only under conditions "
            "this reading does not evaluate (iam:SimulatePrincipalPolicy would tell)",
        )
    return subject.finding(
        "role-permission",
        "problem",
        f"{cause}: likely, role {subject.role_name} may not {action} on it: none of its inline or attached policies "
        "allows it (read from the policies; permission boundaries and SCPs were not read)",
        fix,
    )


def key_arn(key: str, destination: str) -> str:
    """The key ARN or alias ARN for KmsMasterKeyId (an ID, alias/NAME or an ARN) in the destination's region."""
    if key.startswith("arn:"):
        return key
    parts = destination.split(":")
    prefix = f"arn:aws:kms:{parts[3]}:{parts[4]}"
    return f"{prefix}:{key}" if key.startswith("alias/") else f"{prefix}:key/{key}"


async def kms(calls: Calls, subject: Subject, key: str | None) -> Finding:
    if not key:
        return subject.finding("kms", "pass", f"{subject.what} of {subject.function} is not encrypted with a KMS key")
    if key.startswith(("alias/aws/", "aws/")) or ":alias/aws/" in key:
        return subject.finding("kms", "pass", f"{subject.what} of {subject.function} uses the AWS managed key {key}")
    cause = f"{subject.function} cannot send its records to {subject.what}"
    try:
        metadata = (await calls.call("kms", "describe_key", KeyId=key_arn(key, subject.destination)))["KeyMetadata"]
    except Missing:
        return subject.finding(
            "kms", "problem", f"{cause}: its KMS key {key} does not exist", "give the destination a key that exists"
        )
    except Denied as exc:
        return subject.finding(
            "kms", "unknown", f"cannot read KMS key {key} of {subject.what} of {subject.function} ({exc.permission})"
        )
    except Unavailable as exc:
        return subject.finding("kms", "unknown", f"reading KMS key {key} of {subject.what} failed: {exc}")
    arn = str(metadata.get("Arn", key))
    if metadata.get("KeyManager") == "AWS":
        return subject.finding("kms", "pass", f"{subject.what} of {subject.function} uses an AWS managed key")
    if metadata.get("KeyState", "Enabled") != "Enabled":
        return subject.finding(
            "kms",
            "problem",
            f"{cause}: its KMS key {short(arn)} is {metadata.get('KeyState')}",
            f"aws kms enable-key --key-id {arn} (or cancel its deletion)",
        )
    try:
        text = (await calls.call("kms", "get_key_policy", KeyId=arn, PolicyName="default"))["Policy"]
    except (Denied, Missing, Unavailable) as exc:
        permission = exc.permission if isinstance(exc, Denied) else str(exc)
        return subject.finding("kms", "unknown", f"cannot read the policy of KMS key {short(arn)} ({permission})")
    statements = parse(text)
    account = arn.split(":")[4] if arn.count(":") >= 5 else ""
    direct = [s for s in statements if not names_root(s, account)]
    delegated = [s for s in statements if names_root(s, account)]
    missing: list[str] = []
    for action in KMS_ACTIONS:
        answers: list[Answer] = [evaluate(direct, action, arn, principal=subject.role or "")]
        through_iam = evaluate(delegated, action, arn, principal=subject.role or "")
        if through_iam.decision == "allow":
            try:
                answers.append(evaluate(await role_statements(calls, subject.role_name), action, arn))
            except (Denied, Missing, Unavailable) as exc:
                permission = exc.permission if isinstance(exc, Denied) else str(exc)
                return subject.finding(
                    "kms",
                    "unknown",
                    f"KMS key {short(arn)} leaves its use to IAM, and role {subject.role_name}'s policies cannot be "
                    f"read ({permission})",
                )
        elif through_iam.decision == "deny":
            answers.append(through_iam)
        if any(a.decision == "deny" for a in answers) or not any(a.decision == "allow" for a in answers):
            missing.append(action)
    if not missing:
        return subject.finding(
            "kms", "pass", f"role {subject.role_name} may use KMS key {short(arn)} of {subject.what}"
        )
    return subject.finding(
        "kms",
        "problem",
        f"{cause}: it is encrypted with KMS key {short(arn)}, which role {subject.role_name} may not use "
        f"({', '.join(missing)})",
        f"add a statement to the key policy of {short(arn)} allowing {subject.role} {' and '.join(missing)}, "
        f"or give the role {', '.join(missing)} on the key when the key policy delegates to IAM",
    )
