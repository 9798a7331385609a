"""What one run of the app shows and can do (`AppConfig`), and how it invokes (`Invoker`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from records.aws_options import AwsOptions
from records.decode import DEFAULT_CORRELATOR, Correlator
from records.setups import Setup
from records.sources.base import Source
from tui.health import HEALTH_SECONDS

__all__ = ["AppConfig", "Invoker"]

Invoker = Callable[[str, Any], Awaitable[str]]
"""`await invoker(function, payload)` sends an asynchronous invoke and returns the request id."""


@dataclass
class AppConfig:
    """What one run of the app shows and can do; the commands and the tests build one each."""

    sources: Sequence[Source] = ()
    invoker: Invoker | None = None
    order_function: str | None = None  # where `o` sends test orders
    order_generator: Callable[[], Any] | None = None  # a fresh test-order payload
    presets: Mapping[str, Any] = field(default_factory=dict)  # name -> payload (or a callable making one)
    clock: Callable[[], float] | None = None  # seconds since the epoch; fixed in snapshot tests
    title: str = "lambdest-tui"
    subtitle: str = ""
    save_path: str | None = None  # `s`'s default file (None: a timestamped one in the session directory)
    refresh_seconds: float = 0.1
    correlator: Correlator = DEFAULT_CORRELATOR
    # Safety (tui.safety): read-only hides and refuses o/O/r; `confirm_account` (the AWS options of a
    # real account, None for the sandbox) makes the first o/O/r toward each function ask first.
    read_only: bool = False
    confirm_account: AwsOptions | None = None
    setup: Setup | None = None  # what is watched, for the palette's "Save the sources as a setup"
    # Health (`h`): the functions whose CloudWatch metrics and doctor's checks are read, with `aws`,
    # every `health_seconds` (tui.health); none: the health screen shows only the records seen.
    aws: AwsOptions | None = None
    watched_functions: Sequence[str] = ()
    # dead-letter queue or topic (name or ARN) -> its function (discovery): their messages are its
    dead_letter_queues: Mapping[str, str] = field(default_factory=dict)
    health_seconds: float = HEALTH_SECONDS
