"""`--function F` on `watch` and `tail`: the functions whose destinations are watched (discovery)."""

from __future__ import annotations

import argparse

from records.aws_options import AwsOptions
from records.discovery import DiscoveryError, Plan, discover, is_glob

__all__ = ["order_function", "plan_for"]


async def plan_for(args: argparse.Namespace, aws: AwsOptions) -> Plan | None:
    """The discovery plan of every --function (names, ARNs, globs); None without --function.

    Raises DiscoveryError (a sentence) when nothing could be read, or when nothing in the plan can
    be watched and no --queue/--topic/--bus was named.
    """
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
    """The function `o` sends test orders to: the first --function that is not a glob (a name or
    an ARN), else the first function `plan` read; None when there is none."""
    functions: list[str] = list(getattr(args, "function", None) or [])
    for function in functions:
        if not is_glob(function):
            return function
    if plan is not None and plan.function_arns:
        return next(iter(plan.function_arns))
    return None
