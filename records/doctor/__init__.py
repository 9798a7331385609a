"""Why a function's records might not arrive: the doctor's checks (no UI, no argparse)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from records.aws_options import AwsOptions
from records.discovery import DiscoveryError, Plan, Route, discover, split_function
from records.discovery import short_name as short
from records.doctor import access, destinations, metrics
from records.doctor.calls import Calls, Denied, Missing, Unavailable
from records.doctor.findings import CHECKS, Finding

__all__ = ["CHECKS", "DiscoveryError", "Finding", "diagnose"]

DESTINATION_ROUTES = ("on-success", "on-failure", "dead-letter", "stream-failure")


async def diagnose(
    functions: Sequence[str],
    aws: AwsOptions,
    *,
    since: timedelta = timedelta(hours=1),
    concurrency: int = 16,
    clients: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Every check on every function asked for, as findings sorted by function (in the order read),
    qualifier, check (`CHECKS` order) and destination.

    `functions`: names, `name:qualifier`, ARNs or globs (as `discover` takes them; its destinations
    are not followed). For each function and qualifier: invoke-config; per destination
    destination-kind, destination-exists, role-permission, kms (queues and topics), sns-subscriptions
    (topics), bus-rules (buses); then the CloudWatch checks sync-invocations, dropped-events,
    delivery-failures, dead-letter-errors, event-age and throttles over the last `since`. A read the
    caller may not make gives an "unknown" finding naming the permission. `concurrency` bounds the
    calls in flight; `clients`: clients already made, by service name (the caller closes them).
    Raises DiscoveryError when nothing can be read (no region, credentials, endpoint)."""
    calls = Calls(aws, concurrency, clients)
    plan = await discover(functions, aws, concurrency=concurrency, follow=False, clients=clients, session=calls.session)
    async with calls.stack:
        try:
            return await _diagnose(calls, plan, functions, since)
        finally:
            await calls.settle()


def _names(plan: Plan) -> list[str]:
    return list(dict.fromkeys(route.function for route in plan.routes))


async def _diagnose(calls: Calls, plan: Plan, specs: Sequence[str], since: timedelta) -> list[Finding]:
    asked = {split_function(spec)[0]: split_function(spec)[1] for spec in specs}
    names = _names(plan)
    per_function = await asyncio.gather(*[_function(calls, plan, name, asked.get(name)) for name in names])
    findings: list[Finding] = []
    subjects: list[metrics.Subject] = []
    for found, found_subjects in per_function:
        findings.extend(found)
        subjects.extend(found_subjects)
    findings.extend(await metrics.metric_findings(calls, subjects, since))
    order = {name: index for index, name in enumerate(names)}
    return sorted(findings, key=lambda f: (order.get(f.function, len(order)), f.qualifier or "", *f.order))


async def _function(
    calls: Calls, plan: Plan, name: str, qualifier: str | None
) -> tuple[list[Finding], list[metrics.Subject]]:
    routes = [route for route in plan.routes if route.function == name]
    unreadable = [r for r in routes if r.destination is None and r.problem]
    if unreadable and not any(r.destination for r in routes):
        problem = unreadable[0].problem or ""
        status = "unknown" if problem.startswith("not readable") else "problem"
        fix = None
        if "event-invoke config" in problem:
            fix = (
                f"aws lambda put-function-event-invoke-config --function-name {name} --destination-config "
                '\'{"OnSuccess":{"Destination":"ARN"},"OnFailure":{"Destination":"ARN"}}\''
            )
        finding = Finding(name, qualifier, "invoke-config", status, None, f"{name}: {problem}", fix)  # type: ignore[arg-type]
        if "event-invoke config" not in problem:
            return [finding], []
        return [finding], [metrics.Subject(name, qualifier)]
    role, configs = await asyncio.gather(_role(calls, name), _invoke_configs(calls, name))
    function_arn = plan.function_arns.get(name, name)
    qualifiers = list(dict.fromkeys(r.qualifier for r in routes if r.destination)) or [qualifier]
    findings: list[Finding] = []
    pending: list[Awaitable[list[Finding]]] = []
    subjects: list[metrics.Subject] = []
    for q in qualifiers:
        mine = [r for r in routes if r.qualifier == q and r.destination and r.route in DESTINATION_ROUTES]
        findings.append(_invoke_config(name, q, mine, plan))
        config = configs.get(q or "$LATEST", {})
        subjects.append(
            metrics.Subject(
                name,
                q,
                [str(r.destination) for r in mine],
                keeps_failures=any(r.route in ("on-failure", "dead-letter") for r in mine),
                retries=int(config.get("MaximumRetryAttempts", metrics.DEFAULT_RETRIES)),
                event_age=int(config.get("MaximumEventAgeInSeconds", metrics.DEFAULT_EVENT_AGE)),
            )
        )
        for route in mine:
            pending.append(_destination(calls, route, role, function_arn))
    for found in await asyncio.gather(*pending):
        findings.extend(found)
    return findings, subjects


def _invoke_config(name: str, qualifier: str | None, routes: list[Route], plan: Plan) -> Finding:
    kinds = {r.route: r.destination for r in routes}
    parts = [f"{kind} {short(arn)}" for kind, arn in kinds.items()]
    message = f"{name} ({qualifier or '$LATEST'}) sends its records to " + ", ".join(parts)
    if "on-failure" not in kinds and "dead-letter" not in kinds:
        message += "; it has no OnFailure destination, so failure records go nowhere"
    return Finding(name, qualifier, "invoke-config", "pass", None, message)


async def _role(calls: Calls, name: str) -> str | None:
    try:
        config = await calls.call("lambda", "get_function_configuration", FunctionName=name)
    except (Denied, Missing, Unavailable):
        return None
    return str(config.get("Role")) if config.get("Role") else None


async def _invoke_configs(calls: Calls, name: str) -> dict[str, dict[str, Any]]:
    try:
        response = await calls.call("lambda", "list_function_event_invoke_configs", FunctionName=name)
    except (Denied, Missing, Unavailable):
        return {}
    found: dict[str, dict[str, Any]] = {}
    for item in response.get("FunctionEventInvokeConfigs", []):
        parts = str(item.get("FunctionArn", "")).split(":")
        found[parts[7] if len(parts) > 7 else "$LATEST"] = item
    return found


async def _destination(calls: Calls, route: Route, role: str | None, function_arn: str) -> list[Finding]:
    assert route.destination is not None
    kind = route.destination_type or "unknown"
    subject = access.Subject(route.function, route.qualifier, role, kind, route.destination)
    kind_finding = destinations.kind_finding(subject, route.route)
    if kind_finding.status == "problem":
        return [kind_finding]
    target = await destinations.read(calls, route.destination, kind)
    findings = [kind_finding, destinations.exists_finding(subject, target)]
    if isinstance(target.error, Missing):
        return findings
    checks: list[Awaitable[Finding]] = [access.role_permission(calls, subject, target.policy)]
    if kind in ("sqs", "sns") and not isinstance(target.error, Denied):
        checks.append(access.kms(calls, subject, target.key))
    if kind == "sns":
        checks.append(destinations.subscriptions_finding(calls, subject))
    if kind == "events":
        checks.append(destinations.rules_finding(calls, subject, function_arn, route.route))
    findings.extend(await asyncio.gather(*checks))
    return findings
