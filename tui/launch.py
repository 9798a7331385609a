"""Running the app on live sources with AWS access (shared by `watch` and `demo`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from records.aws_options import AwsOptions
from records.sources.base import Source
from tui.app import AppConfig, LambdestApp, create_app


def live_config(
    sources: Sequence[Source], aws: AwsOptions, function: str | None, title: str, subtitle: str
) -> AppConfig:
    """An app config whose invoker sends asynchronous invokes with `aws` (test orders, re-drive)."""
    from records.invoke import ORDER_KINDS, generate_order, invoke_event

    async def invoker(name: str, payload: Any) -> str:
        return await invoke_event(name, payload, aws)

    from records.identity import is_local

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
        confirm_account=None if is_local(aws) else aws,  # the sandbox needs no confirmation
    )


def run_app(config: AppConfig) -> LambdestApp:
    """Run the app until the user quits; returns once every source is closed (taps removed)."""
    app = create_app(config)
    app.run()
    app.wait_sources_closed()
    return app
