"""Plain `lambdest-tui`: the start screen, then `watch` (or `demo`) on what was chosen.

With working credentials the start screen lists saved setups and the region's functions that have
destinations (streamed by `records.listing` in a worker); without, it names what is missing and
the command that fixes it, and offers the demo. `q` exits 0.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from textual import work
from textual.app import App
from textual.worker import Worker, WorkerState

from records.aws_options import AwsOptions
from records.discovery import DiscoveryError
from records.identity import AccessProblem, Identity, caller_identity, problem, region_of
from records.listing import Listing, list_destinations
from records.setups import ConfigError, Setup, load_config
from tui.screens.start import AccessFailed, FunctionsListed, Identified, ProblemScreen, StartChoice, StartScreen

HELP = "the start screen: pick functions to watch (what plain `lambdest-tui` runs)"
Lister = Callable[[AwsOptions], AsyncIterator[Listing]]
Identifier = Callable[[AwsOptions], Awaitable[Identity]]


class StartApp(App[StartChoice | None]):
    TITLE = "lambdest-tui"

    def __init__(
        self,
        aws: AwsOptions,
        *,
        setups: Mapping[str, Setup] | None = None,
        notice: str = "",
        region: str | None = None,
        lister: Lister = list_destinations,
        identify: Identifier = caller_identity,
    ) -> None:
        super().__init__()
        self.aws = aws
        self.setups = dict(setups or {})
        self.notice = notice
        self.region = region if region is not None else aws.region
        self.lister = lister
        self.identify = identify
        self.sub_title = "pick functions to watch"

    def on_mount(self) -> None:
        self.push_screen(StartScreen(self.region, self.aws.profile, self.setups, self.notice))
        self._identify()
        self._list()

    @work(group="identity", exit_on_error=False)
    async def _identify(self) -> None:
        try:
            identity = await self.identify(self.aws)
        except AccessProblem as exc:
            self.post_message(AccessFailed(exc.missing, exc.fix))
            return
        self.post_message(Identified(identity))

    @work(group="listing", exit_on_error=False)
    async def _list(self) -> None:
        try:
            async for listing in self.lister(self.aws):
                self.post_message(FunctionsListed(listing))
        except DiscoveryError as exc:
            cause = exc.__cause__
            found = problem(cause, self.aws) if cause is not None else AccessProblem(str(exc), "")
            self.post_message(AccessFailed(found.missing, found.fix or "aws sts get-caller-identity"))

    @property
    def start_screen(self) -> StartScreen | None:
        return next((s for s in self.screen_stack if isinstance(s, StartScreen)), None)

    def on_identified(self, message: Identified) -> None:
        screen = self.start_screen
        if screen is not None:
            screen.show_identity(message.identity)

    def on_functions_listed(self, message: FunctionsListed) -> None:
        screen = self.start_screen
        if screen is not None:
            screen.add_functions(message.listing)

    def on_access_failed(self, message: AccessFailed) -> None:
        if isinstance(self.screen, ProblemScreen):
            return  # the first problem found is the one to fix
        self.workers.cancel_group(self, "listing")
        self.switch_screen(ProblemScreen(message.missing, message.fix))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:  # never a traceback: say what happened
            error = event.worker.error
            self.post_message(AccessFailed(f"Reading AWS failed: {type(error).__name__}: {error}", "--help"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tui.commands.common import add_aws_arguments

    parser.add_argument("--read-only", action="store_true", help="watch without test orders, re-drive or consume mode")
    add_aws_arguments(parser)


def _aws_argv(args: argparse.Namespace) -> list[str]:
    argv: list[str] = []
    for option in ("profile", "region", "endpoint_url"):
        value = getattr(args, option, None)
        if value:
            argv += [f"--{option.replace('_', '-')}", value]
    if getattr(args, "read_only", False):
        argv.append("--read-only")
    return argv


def watch_argv(choice: StartChoice, args: argparse.Namespace) -> list[str]:
    """The `watch` command line for the choice (the start screen's AWS options carried over)."""
    if choice.action == "setup":
        return ["watch", f"@{choice.setup}", *_aws_argv(args)]
    functions = [part for name in choice.functions for part in ("--function", name)]
    return ["watch", *functions, *_aws_argv(args)]


def follow(choice: StartChoice | None, args: argparse.Namespace) -> int:
    """Run what the start screen chose; 0 when it was closed with `q`."""
    if choice is None:
        return 0
    if choice.action == "demo":
        return _run_command(["demo"])
    return _run_command(watch_argv(choice, args))


def _run_command(argv: list[str]) -> int:
    """Run `lambdest-tui ARGV` (demo or watch) in this process, parsed by that command's own parser."""
    import importlib

    module = importlib.import_module(f"tui.commands.{argv[0]}")
    parser = argparse.ArgumentParser(prog=f"lambdest-tui {argv[0]}")
    module.add_arguments(parser)
    result: int = module.run(parser.parse_args(argv[1:]))
    return result


def run(args: argparse.Namespace) -> int:
    aws = AwsOptions(args.profile, args.region, args.endpoint_url)
    notice = ""
    try:
        setups = load_config().setups
    except ConfigError as exc:
        setups, notice = {}, f"Saved setups not shown: {exc}"
    try:
        region = region_of(aws)
    except Exception:  # an unreadable AWS config: the start screen's workers name the problem
        region = None
    choice = StartApp(aws, setups=setups, notice=notice, region=region).run()
    try:
        return follow(choice, args)
    except KeyboardInterrupt:
        return 130
