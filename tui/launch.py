"""Running the app on live sources with AWS access (shared by `watch` and `demo`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from textual.app import AutopilotCallbackType

from records.aws_options import AwsOptions
from records.sources.base import Source
from tui.app import AppConfig, LambdestApp, create_app
from tui.heap import tune_process

__all__ = ["live_config", "run_app"]


def live_config(
    sources: Sequence[Source], aws: AwsOptions, function: str | None, title: str, subtitle: str
) -> AppConfig:
    """An app config whose invoker sends asynchronous invokes with `aws` (test orders, re-drive)."""
    from records.invoke import ORDER_KINDS, generate_order, invoke_event

    async def invoker(name: str, payload: Any) -> str:
        return await invoke_event(name, payload, aws)

    presets: dict[str, Callable[[], Any]] = {kind: functools.partial(generate_order, kind) for kind in ORDER_KINDS}
    return AppConfig(
        sources=sources,
        invoker=invoker,
        order_function=function,
        order_generator=generate_order,
        presets=presets,
        title=title,
        subtitle=subtitle,
        quit_on_sigterm=True,
    )


def run_app(
    config: AppConfig,
    *,
    headless: bool = False,
    auto_pilot: AutopilotCallbackType | None = None,
) -> LambdestApp:
    """The entry point of every command that runs the UI: tune the process (`tui.heap`), run the app
    until the user quits (or `auto_pilot` returns), return once every source is closed (taps removed)."""
    tune_process()
    app = create_app(config)
    app.run(headless=headless, auto_pilot=auto_pilot)
    app.wait_sources_closed()
    return app
