"""Safety against real accounts: read-only mode, and confirmation before the first write.

Read-only (`--read-only`, `read_only = true` in a setup): test orders, the order dialog and
re-drive are hidden from the footer (`allows` for `App.check_action`), refused with a message when
pressed or picked from the palette (`refuse`, `on_key`).

Otherwise, when the app acts on an account that is not this machine (`confirm_for` set), the
first `o`/`O`/`r` toward each function asks for confirmation naming the account id (STS
GetCallerIdentity, fetched once in a worker that only posts `AccountIdentified`), region and function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import events
from textual.app import App
from textual.message import Message

from records.aws_options import AwsOptions
from records.identity import AccessProblem, Identity, caller_identity, region_of
from records.lines import visible
from tui.screens.dialogs import ConfirmDialog

WRITE_ACTIONS = frozenset({"test_order", "order_dialog", "redrive"})
WRITE_KEYS = {"o": "test orders", "O": "test orders", "r": "re-drive"}


class AccountIdentified(Message):
    """Who the app's AWS options act as, or why that is unknown (a sentence)."""

    def __init__(self, identity: Identity | None, problem: str | None) -> None:
        super().__init__()
        self.identity = identity
        self.problem = problem


class WriteGuard:
    def __init__(self, read_only: bool, confirm_for: AwsOptions | None) -> None:
        self.read_only = read_only
        self.confirm_for = confirm_for
        self.identity: Identity | None = None
        self.problem: str | None = None
        self.confirmed: set[str] = set()
        self._asked = False
        self._pending: list[tuple[str, Callable[[], object]]] = []

    # ----- read-only ----------------------------------------------------------------------------

    def allows(self, action: str) -> bool:
        """For `check_action`: False hides the binding (read-only mode)."""
        return not (self.read_only and action in WRITE_ACTIONS)

    def refuse(self, app: App[Any], what: str) -> bool:
        """True (after saying so) when read-only mode forbids `what`."""
        if self.read_only:
            app.notify(f"Read-only mode: {what} would change the account, so it is off.", severity="warning")
        return self.read_only

    def on_key(self, app: App[Any], event: events.Key) -> None:
        """A write key that reached the app unhandled (its binding is hidden in read-only mode)."""
        what = WRITE_KEYS.get(event.key) if event.character == event.key else None
        if what is not None and self.read_only:
            event.stop()
            self.refuse(app, what)

    # ----- confirmation -------------------------------------------------------------------------

    def start(self, app: App[Any]) -> None:
        """Look the account up in the background (once), so the question can name it."""
        if self.confirm_for is None or self.read_only or self._asked:
            return
        self._asked = True
        aws = self.confirm_for

        async def identify() -> None:
            try:
                identity = await caller_identity(aws)
            except AccessProblem as exc:
                app.post_message(AccountIdentified(None, f"{exc.missing} {exc.fix}"))
                return
            app.post_message(AccountIdentified(identity, None))

        app.run_worker(identify(), group="identity", exit_on_error=False)

    def confirm(self, app: App[Any], function: str, then: Callable[[], object]) -> None:
        """Run `then` at once on the sandbox or after this function was confirmed; else ask first."""
        if self.confirm_for is None or function in self.confirmed:
            then()
            return
        if self.identity is None and self.problem is None:
            self._pending.append((function, then))
            self.start(app)
            app.notify("Looking up the AWS account before the first change…", timeout=3)
            return
        self._ask(app, function, then)

    def identified(self, app: App[Any], message: AccountIdentified) -> None:
        self.identity = message.identity
        self.problem = message.problem or (None if message.identity else "unknown")
        pending, self._pending = self._pending, []
        for function, then in pending[:1]:  # one question at a time; a second press asks again
            self._ask(app, function, then)

    def question(self, function: str) -> Text:
        identity = self.identity
        account = identity.account if identity is not None else f"unknown ({self.problem})"
        region = (identity.region if identity is not None else None) or (
            region_of(self.confirm_for) if self.confirm_for is not None else None
        )
        return Text.assemble(
            ("This invokes ", ""),
            (visible(function), "bold"),
            (" in AWS account ", ""),
            (visible(account), "bold"),
            (", region ", ""),
            (visible(region or "unknown"), "bold"),
            (".\nIt is not the local sandbox: go on?", ""),
        )

    def _ask(self, app: App[Any], function: str, then: Callable[[], object]) -> None:
        def done(answer: bool | None) -> None:
            if answer:
                self.confirmed.add(function)
                then()

        app.push_screen(ConfirmDialog(self.question(function), "Invoke"), done)
