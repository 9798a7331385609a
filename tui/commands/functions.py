"""`--function F` on `watch` and `tail`: the functions whose destinations are watched (discovery).

Public API:
    plan_for(args, aws) -> Plan | None     None without --function; otherwise the discovery plan of
                                           every --function (names, ARNs, globs); raises DiscoveryError
                                           when nothing could be read, or when nothing in the plan can be
                                           watched and no --queue/--topic/--bus was named
    order_function(args, plan) -> str | None   the function `o` sends test orders to: the first
                                           --function named exactly, else the first one a glob found
"""

from __future__ import annotations

import argparse

from records.aws_options import AwsOptions
from records.discovery import DiscoveryError, Plan, discover, is_glob


async def plan_for(args: argparse.Namespace, aws: AwsOptions) -> Plan | None:
    functions: list[str] = list(getattr(args, "function", None) or [])
    if not functions:
        return None
    plan = await discover(functions, aws)
    named = getattr(args, "queue", None) or getattr(args, "topic", None) or getattr(args, "bus", None)
    if not plan.watchable and not named:
        why = "; ".join(f"{route.function}: {route.problem}" for route in plan.problems) or "no destinations"
        raise DiscoveryError(f"nothing to watch for {', '.join(functions)}: {why}")
    return plan


def order_function(args: argparse.Namespace, plan: Plan | None) -> str | None:
    functions: list[str] = list(getattr(args, "function", None) or [])
    for function in functions:
        if not is_glob(function):
            return function
    if plan is not None and plan.function_arns:
        return next(iter(plan.function_arns))
    return None
