"""The stack file: which functions, queues, topics, buses, buckets and subscriptions the sandbox runs.

A stack is TOML (see `default_stack.toml`, the seed article's order system)::

    [[functions]]
    name = "order"
    handler = "records.sandbox.order_system.handlers:order"  # module:function, or path/to/file.py:function
    timeout = 3                  # seconds of real time (not scaled)
    maximum_retry_attempts = 2   # 0-2, Lambda's default 2
    maximum_event_age = 21600    # seconds (60-21600), scaled by the time factor
    reserved_concurrency = 0     # optional; 0 throttles every event (condition ZeroReservedConcurrency)
    on_success = "function:update-inventory"   # kind:name (function, queue, topic, bus, bucket) or an ARN
    on_failure = "queue:order-failures"
    recursive_loop = "Allow"     # optional; Lambda's default "Terminate" stops a recursive loop (recursion.py)
    versions = 1                 # optional: publish version "1" at start (Lambda publishes no second
                                 # version of an unchanged configuration, so 0 or 1)
    aliases = { live = "1" }     # optional: alias name -> version ("1" or "$LATEST")
    dead_letter = "queue:order-dlq"  # DeadLetterConfig: queue:name, topic:name or an SQS/SNS ARN

    [[queues]]
    name = "order-failures"      # `fifo = true` makes order-failures.fifo (also on [[topics]]),
                                 # to see Lambda fail to deliver to it, as AWS does
    [[topics]]
    name = "order-notifications"
    [[buses]]
    name = "orders"
    [[buckets]]
    name = "order-failure-records"
    [[subscriptions]]           # SNS topic -> SQS queue
    topic = "order-notifications"
    queue = "order-notifications-inbox"
    raw = false

Faults to practise on (`deny`, [[keys]], `kms_key`, [[rules]]): see `stack_faults.py`.
Kinesis streams, DynamoDB tables and event source mappings ([[streams]], [[tables]], [[mappings]]):
see `stack_streams.py`.
A file path handler is resolved relative to the stack file. Errors name the file and the entry.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from records.sandbox import qualifiers, recursion
from records.sandbox.handler_worker import Handler, HandlerImportError, resolve_handler
from records.sandbox.stack_faults import FaultError, Faults, deny_list, parse_faults
from records.sandbox.stack_streams import Streams, StreamStackError, parse_streams

DEFAULT_STACK = Path(__file__).with_name("default_stack.toml")
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"  # moto's default account

T = TypeVar("T")

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_KINDS = {"function", "queue", "topic", "bus", "bucket"}


class StackError(ValueError):
    """The stack file is not valid; the message says where and why."""


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    handler: str
    timeout: float = 3.0
    maximum_retry_attempts: int | None = None
    maximum_event_age: int | None = None
    reserved_concurrency: int | None = None
    on_success: str | None = None  # an ARN once the stack is resolved
    on_failure: str | None = None
    deny: tuple[str, ...] = ()  # actions taken out of its role (stack_faults.py)
    recursive_loop: str = recursion.DEFAULT  # Lambda's RecursiveLoop: "Allow" or "Terminate" (recursion.py)
    versions: int = 0  # versions published at start (qualifiers.py)
    aliases: tuple[tuple[str, str], ...] = ()  # (alias name, version) created at start
    dead_letter: str | None = None  # DeadLetterConfig.TargetArn (an SQS queue or SNS topic ARN)

    @property
    def has_event_invoke_config(self) -> bool:
        return any(
            value is not None
            for value in (self.maximum_retry_attempts, self.maximum_event_age, self.on_success, self.on_failure)
        )


@dataclass(frozen=True, slots=True)
class Subscription:
    topic: str
    queue: str
    raw: bool = False


@dataclass(frozen=True, slots=True)
class Stack:
    path: Path
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT
    functions: tuple[FunctionSpec, ...] = ()
    queues: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    buses: tuple[str, ...] = ()
    buckets: tuple[str, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    base_dir: Path = field(default_factory=Path.cwd)
    faults: Faults = field(default_factory=Faults)
    streams: Streams = field(default_factory=Streams)  # [[streams]], [[tables]], [[mappings]]

    def role_arn(self, function: str) -> str:
        """The IAM role the sandbox makes for a function (stack_faults.py)."""
        return f"arn:aws:iam::{self.account}:role/lambdest-sandbox-{function}"

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"

    def arn(self, kind: str, name: str) -> str:
        """The ARN of `name`; a queue or topic declared `fifo = true` is found by its declared name
        too (`queue:records` -> ...:records.fifo), as its ARN ends in .fifo on AWS."""
        if kind == "function":
            return self.function_arn(name)
        if kind == "queue":
            return f"arn:aws:sqs:{self.region}:{self.account}:{_fifo_name(self.queues, name)}"
        if kind == "topic":
            return f"arn:aws:sns:{self.region}:{self.account}:{_fifo_name(self.topics, name)}"
        if kind == "bus":
            return f"arn:aws:events:{self.region}:{self.account}:event-bus/{name}"
        if kind == "bucket":
            return f"arn:aws:s3:::{name}"
        raise StackError(f"unknown destination kind {kind!r}")

    def function(self, name: str) -> FunctionSpec | None:
        return next((spec for spec in self.functions if spec.name == name), None)

    def load_handler(self, spec: FunctionSpec) -> Handler:
        return load_handler(spec.handler, self.base_dir, where=f"{self.path}: function {spec.name!r}")


def _fifo_name(declared: tuple[str, ...], name: str) -> str:
    """`name`, or `name.fifo` when that is what the stack declares (`fifo = true`)."""
    return f"{name}.fifo" if name not in declared and f"{name}.fifo" in declared else name


def load_handler(reference: str, base_dir: Path, where: str = "handler") -> Handler:
    """`package.module:function` or `path/to/file.py:function` -> the callable (imported in this process;
    the worker processes resolve it the same way, `handler_worker.resolve_handler`)."""
    try:
        return resolve_handler(reference, base_dir)
    except HandlerImportError as exc:
        raise StackError(f"{where}: {exc}") from exc


def load_stack(path: str | Path | None = None) -> Stack:
    """Read and validate a stack file (the shipped order system when `path` is None)."""
    file = Path(path) if path is not None else DEFAULT_STACK
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StackError(f"cannot read stack file {file}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise StackError(f"{file} is not valid TOML: {exc}") from exc
    return parse_stack(data, file)


def _names(data: dict[str, Any], key: str, file: Path) -> tuple[str, ...]:
    entries = data.get(key, [])
    if not isinstance(entries, list):
        raise StackError(f"{file}: [[{key}]] must be a list of tables")
    names: list[str] = []
    for index, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            raise StackError(f"{file}: {key}[{index}] needs a name")
        if key in ("queues", "topics") and entry.get("fifo") and not name.endswith(".fifo"):
            name += ".fifo"
        names.append(name)
    return tuple(names)


def parse_stack(data: dict[str, Any], file: Path) -> Stack:
    region = data.get("region", DEFAULT_REGION)
    account = str(data.get("account", DEFAULT_ACCOUNT))
    if not isinstance(region, str) or not re.match(r"^[a-z]{2}(-gov)?-[a-z]+-\d$", region):
        raise StackError(f"{file}: region {region!r} is not an AWS region name")
    if not re.match(r"^\d{12}$", account):
        raise StackError(f"{file}: account {account!r} must be 12 digits")
    stack = Stack(
        path=file,
        region=region,
        account=account,
        queues=_names(data, "queues", file),
        topics=_names(data, "topics", file),
        buses=_names(data, "buses", file),
        buckets=_names(data, "buckets", file),
        base_dir=file.parent,
    )
    raw_functions = data.get("functions", [])
    if not isinstance(raw_functions, list) or not raw_functions:
        raise StackError(f"{file}: declare at least one [[functions]] entry")
    names = set()
    functions: list[FunctionSpec] = []
    for index, entry in enumerate(raw_functions):
        where = f"{file}: functions[{index}]"
        if not isinstance(entry, dict):
            raise StackError(f"{where} must be a table")
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise StackError(f"{where}: name {name!r} must be 1-64 letters, digits, - or _")
        if name in names:
            raise StackError(f"{where}: function {name!r} is declared twice")
        names.add(name)
        handler = entry.get("handler")
        if not isinstance(handler, str):
            raise StackError(f'{where}: function {name!r} needs handler = "module:function"')
        timeout = entry.get("timeout", 3)
        if not isinstance(timeout, int | float) or not 0 < timeout <= 900:
            raise StackError(f"{where}: timeout must be 1-900 seconds")
        retries = entry.get("maximum_retry_attempts")
        if retries is not None and (not isinstance(retries, int) or not 0 <= retries <= 2):
            raise StackError(f"{where}: maximum_retry_attempts must be 0, 1 or 2")
        age = entry.get("maximum_event_age")
        if age is not None and (not isinstance(age, int) or not 60 <= age <= 21600):
            raise StackError(f"{where}: maximum_event_age must be 60-21600 seconds")
        reserved = entry.get("reserved_concurrency")
        if reserved is not None and (not isinstance(reserved, int) or reserved < 0):
            raise StackError(f"{where}: reserved_concurrency must be a whole number, 0 or more")
        recursive_loop = entry.get("recursive_loop", recursion.DEFAULT)
        if recursive_loop not in recursion.RECURSIVE_LOOPS:
            raise StackError(
                f'{where}: recursive_loop must be "Allow" or "Terminate" (Lambda\'s RecursiveLoop), '
                f"got {recursive_loop!r}"
            )
        versions = entry.get("versions", 0)
        if not isinstance(versions, int) or isinstance(versions, bool) or versions not in (0, 1):
            raise StackError(
                f"{where}: versions must be 0 or 1 (Lambda publishes no new version while the "
                "configuration is unchanged, so a stack can publish one)"
            )
        destinations: dict[str, str | None] = {}
        for key in ("on_success", "on_failure"):
            value = entry.get(key)
            if value is None:
                destinations[key] = None
                continue
            if not isinstance(value, str):
                raise StackError(f"{where}: {key} must be kind:name or an ARN")
            destinations[key] = _destination_arn(stack, value, f"{where}.{key}")
        dead_letter = entry.get("dead_letter")
        if dead_letter is not None:
            dead_letter = _dead_letter_arn(stack, dead_letter, f"{where}.dead_letter")
        functions.append(
            FunctionSpec(
                name=name,
                handler=handler,
                timeout=float(timeout),
                maximum_retry_attempts=retries,
                maximum_event_age=age,
                reserved_concurrency=reserved,
                on_success=destinations["on_success"],
                on_failure=destinations["on_failure"],
                deny=_faults(functools.partial(deny_list, entry, where)),
                recursive_loop=recursive_loop,
                versions=versions,
                aliases=_aliases(entry.get("aliases"), versions, where),
                dead_letter=dead_letter,
            )
        )
    subscriptions: list[Subscription] = []
    for index, entry in enumerate(data.get("subscriptions", [])):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("topic"), str)
            or not isinstance(entry.get("queue"), str)
        ):
            raise StackError(f'{file}: subscriptions[{index}] needs topic = "..." and queue = "..."')
        topic, queue = _fifo_name(stack.topics, entry["topic"]), _fifo_name(stack.queues, entry["queue"])
        subscriptions.append(Subscription(topic, queue, bool(entry.get("raw", False))))
        if topic not in stack.topics or queue not in stack.queues:
            raise StackError(f"{file}: subscriptions[{index}] names a topic or queue the stack does not declare")
    return Stack(
        path=stack.path,
        region=stack.region,
        account=stack.account,
        functions=tuple(functions),
        queues=stack.queues,
        topics=stack.topics,
        buses=stack.buses,
        buckets=stack.buckets,
        subscriptions=tuple(subscriptions),
        base_dir=stack.base_dir,
        faults=_faults(functools.partial(parse_faults, data, file, names, stack.buses)),
        streams=_faults(
            functools.partial(parse_streams, data, file, names, functools.partial(_destination_arn, stack))
        ),
    )


def _faults(parse: Callable[[], T]) -> T:
    try:
        return parse()
    except (FaultError, StreamStackError) as exc:
        raise StackError(str(exc)) from exc


def _aliases(value: Any, versions: int, where: str) -> tuple[tuple[str, str], ...]:
    """`aliases = { live = "1" }` -> (("live", "1"),), checked against the versions published."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise StackError(f'{where}: aliases must be a table, e.g. aliases = {{ live = "1" }}')
    aliases: list[tuple[str, str]] = []
    for name, version in value.items():
        if not qualifiers.valid_alias_name(name):
            raise StackError(f"{where}: alias name {name!r} must be 1-128 letters, digits, - or _ and not only digits")
        text = str(version) if isinstance(version, int) and not isinstance(version, bool) else version
        if text != qualifiers.LATEST and not (isinstance(text, str) and text.isdigit() and 1 <= int(text) <= versions):
            published = "version 1 (versions = 1)" if versions else "no version (add versions = 1)"
            raise StackError(
                f'{where}: alias {name!r} points at {version!r}; the stack publishes {published}, or use "$LATEST"'
            )
        aliases.append((name, str(text)))
    return tuple(aliases)


def _destination_arn(stack: Stack, value: str, where: str) -> str:
    if value.startswith("arn:"):
        return value
    kind, sep, name = value.partition(":")
    if not sep or kind not in _KINDS or not name:
        raise StackError(f"{where}: {value!r} must be an ARN or kind:name with kind one of {sorted(_KINDS)}")
    return stack.arn(kind, name)


def _dead_letter_arn(stack: Stack, value: Any, where: str) -> str:
    """A dead-letter queue is an SQS queue or an SNS topic (Lambda's DeadLetterConfig.TargetArn)."""
    if isinstance(value, str) and value.startswith("arn:"):
        parts = value.split(":")
        if len(parts) >= 6 and parts[2] in ("sqs", "sns"):
            return value
    elif isinstance(value, str) and value.partition(":")[0] in ("queue", "topic") and value.partition(":")[2]:
        return _destination_arn(stack, value, where)
    raise StackError(f"{where}: {value!r} must be queue:name, topic:name or the ARN of an SQS queue or SNS topic")
