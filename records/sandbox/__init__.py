"""The local stand-in for AWS: moto for SQS/SNS/EventBridge/S3, plus our own Lambda with destinations.

Each function runs as the IAM role `lambdest-sandbox-NAME` (in moto's IAM) allowed what its
destinations need; the stack's faults (`stack_faults.py`) take permissions away, encrypt
destinations with KMS keys and add EventBridge rules. Event source mappings from Kinesis and
DynamoDB Streams (`streams.py`, API in `stream_api.py`) poll moto's streams and send stream-failure
records; their clients are made on first use. The CloudWatch metrics Lambda publishes
(`metrics.py`) go to moto's CloudWatch every second (`flush_metrics()` sends them now). A
function's dead-letter queue (`dead_letter.py`, set in the stack or with UpdateFunctionConfiguration:
`function_config.py`) gets every asynchronous event that ends without success.

`time_factor` scales Lambda's retry back-off (~60 s and ~120 s) and MaximumEventAgeInSeconds; the
default 1/60 makes the back-offs ~1 s and ~2 s. `on_delivery_failure` (called on the sandbox's thread)
hears about records that could not be delivered (missing or FIFO destinations).

The sandbox runs its asyncio loop in a thread of its own, so it works the same from plain code and
from inside another event loop. Handlers run in worker processes, a small pool per function reused
as Lambda reuses warm environments (`handler_process.py`); what they print reaches this process's
`sys.stdout` / `sys.stderr`. `duplicates` (0-1) delivers that share of async events twice.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from records.sandbox import permissions
from records.sandbox.dead_letter import DeadLetterFailure, DeadLetters
from records.sandbox.delivery import Delivery, DeliveryFailure
from records.sandbox.metrics import Metrics
from records.sandbox.moto_process import MotoProcess, MotoProcessError
from records.sandbox.runtime import DEFAULT_TIME_FACTOR, Runtime
from records.sandbox.stack import Stack, StackError, load_stack
from records.sandbox.streams import StreamPollers

__all__ = [
    "DEFAULT_TIME_FACTOR",
    "DeadLetterFailure",
    "DeliveryFailure",
    "MotoProcessError",
    "Sandbox",
    "SandboxError",
    "SandboxStats",
    "StackError",
]

# What the sandbox logs must never reach a terminal the UI draws on unless someone asks for it
# (without a handler, Python's last-resort handler would print warnings to stderr).
log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

_SERVICES = ("sqs", "sns", "events", "s3", "cloudwatch", "iam", "kms")  # the clients the sandbox makes
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class SandboxError(RuntimeError):
    """The sandbox could not start (the message says why)."""


@dataclass(frozen=True, slots=True)
class SandboxStats:
    """A snapshot: the runtime's counts (`records.sandbox.runtime.RuntimeStats`) and delivery's."""

    accepted: int = 0
    attempts: int = 0
    retries: int = 0
    succeeded: int = 0
    failed: int = 0
    records: int = 0
    throttles: int = 0
    duplicates: int = 0
    delivered: int = 0
    delivery_failures: tuple[DeliveryFailure, ...] = field(default_factory=tuple)
    delivered_to: dict[str, int] = field(default_factory=dict)  # destination ARN -> records delivered
    dead_lettered: int = 0  # discarded events sent to dead-letter queues (dead_letter.py)
    dead_letter_failures: tuple[DeadLetterFailure, ...] = field(default_factory=tuple)


class Sandbox:
    """The sandbox: moto plus our Lambda endpoint, running the stack at `stack_path` (None: the
    shipped order system, `default_stack.toml`). The UI's `demo` and the `sandbox` command use it.

    Lifecycle: `start()` blocks until ready (moto up, resources created, endpoint listening) and
    raises `SandboxError`; `stop()` is idempotent and leaves no process behind (it also runs at
    exit if the caller forgets). Inside a running asyncio loop (Textual's) use `await astart()`,
    `await await_idle(timeout)` and `await astop()`, which do the same without blocking the loop.
    It is a context manager too: `with Sandbox() as sandbox: ...` and
    `async with Sandbox() as sandbox: ...` start it and stop it on the way out.

    Parameters: `time_factor` scales Lambda's retry back-off and MaximumEventAgeInSeconds (must be
    positive, else ValueError); `host`/`port` are where the endpoint listens (port 0: one the system
    chooses); `concurrency` bounds the invocations (worker processes) each function runs at once
    (its reserved concurrency bounds them further, and throttles beyond it); `duplicates` (0-1, else
    ValueError) is the probability that an accepted async event is delivered twice with the same request
    id, as Lambda's at-least-once queue may; `on_delivery_failure` (called on the
    sandbox's thread) hears about each `DeliveryFailure`. A stack that does not load raises
    `StackError` here, before anything starts.

    The stack's names: `region` (e.g. "us-east-1"), `functions` (the shipped stack: "order",
    "update-inventory", "rollback-order"), `queues`, `topics`, `buses`, `buckets`; `arn(kind, name)`
    gives their ARNs.
    """

    def __init__(
        self,
        stack_path: str | Path | None = None,
        time_factor: float = DEFAULT_TIME_FACTOR,
        host: str = "127.0.0.1",
        port: int = 0,
        concurrency: int = 8,
        on_delivery_failure: Callable[[DeliveryFailure], None] | None = None,
        duplicates: float = 0.0,
    ) -> None:
        if time_factor <= 0:
            raise ValueError("time_factor must be positive")
        if not 0.0 <= duplicates <= 1.0:
            raise ValueError("duplicates must be between 0 and 1")
        self.duplicates = duplicates
        self.stack: Stack = load_stack(stack_path)
        # Import the handlers now, so a broken stack fails before anything starts (they run in worker
        # processes, which import them again by reference).
        for spec in self.stack.functions:
            self.stack.load_handler(spec)
        self.time_factor = time_factor
        self.host = host
        self.port = port
        self.concurrency = concurrency
        self.on_delivery_failure = on_delivery_failure
        self.region = self.stack.region
        self.functions = tuple(spec.name for spec in self.stack.functions)
        self.queues = self.stack.queues
        self.topics = self.stack.topics
        self.buses = self.stack.buses
        self.buckets = self.stack.buckets
        self._moto: MotoProcess | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._exit: contextlib.AsyncExitStack | None = None
        self._runtime: Runtime | None = None
        self._aws: Any = None  # the aiobotocore session of its clients
        self._delivery: Delivery | None = None
        self._metrics: Metrics | None = None
        self._dead_letters: DeadLetters | None = None
        self._endpoint: str | None = None
        self._lock = threading.Lock()

    # -- addresses ------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the endpoint is up (between a successful `start()` and `stop()`)."""
        return self._endpoint is not None

    @property
    def endpoint_url(self) -> str:
        """The endpoint, "http://HOST:PORT": Lambda calls are served by us, the rest proxied to
        moto. Raises SandboxError when the sandbox is not running."""
        if self._endpoint is None:
            raise SandboxError("the sandbox is not running")
        return self._endpoint

    @property
    def moto_url(self) -> str:
        """moto itself (no Lambda). Raises SandboxError when the sandbox is not running."""
        if self._moto is None:
            raise SandboxError("the sandbox is not running")
        return self._moto.endpoint_url

    @property
    def moto_pid(self) -> int | None:
        """The moto process's id, None when it is not running."""
        return self._moto.pid if self._moto is not None else None

    def worker_pids(self) -> dict[str, list[int]]:
        """The ids of each function's worker processes now (empty when not running)."""
        loop, runtime = self._loop, self._runtime
        if loop is None or runtime is None or not loop.is_running():
            return {}

        async def pids() -> dict[str, list[int]]:
            return {name: pool.pids for name, pool in runtime.pools.items()}

        return asyncio.run_coroutine_threadsafe(pids(), loop).result(5)

    @property
    def env(self) -> dict[str, str]:
        """The variables that point boto3, aiobotocore and the AWS CLI v2 at the sandbox:
        AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_LAMBDA (`endpoint_url`), AWS_REGION and
        AWS_DEFAULT_REGION, and dummy credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
        "testing"). Raises SandboxError when the sandbox is not running."""
        endpoint = self.endpoint_url
        return {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ENDPOINT_URL_LAMBDA": endpoint,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            **DUMMY_CREDENTIALS,
        }

    def arn(self, kind: str, name: str) -> str:
        """The ARN of the stack's resource `name`; `kind` is one of function, queue, topic, bus,
        bucket (another kind raises StackError)."""
        return self.stack.arn(kind, name)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start moto, the runtime and the endpoint; returns when ready (at once when running).
        Raises SandboxError; whatever had started is stopped again first."""
        with self._lock:
            if self._endpoint is not None:
                return
            atexit.register(self.stop)  # never leave moto behind, even when the caller forgets
            try:
                self._start()
            except BaseException:
                atexit.unregister(self.stop)
                self._stop()
                raise

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="lambdest-sandbox", daemon=True)
        self._thread.start()
        # Load the handlers and open the endpoint while moto starts.
        runtime_future = asyncio.run_coroutine_threadsafe(self._make_runtime(), loop)
        # moto's resources live in the stack's account, so what moto stamps (an EventBridge event's
        # `account`, queue URLs, ARNs) names the functions' account.
        self._moto = MotoProcess(host=self.host, account=self.stack.account)
        try:
            moto_url = self._moto.start()
        except MotoProcessError as exc:
            raise SandboxError(str(exc)) from exc
        try:
            runtime_future.result()
            asyncio.run_coroutine_threadsafe(self._setup(moto_url), loop).result()
        except Exception as exc:  # a resource moto refused, a port in use...
            raise SandboxError(f"setting up the stack failed: {type(exc).__name__}: {exc}") from exc

    async def _make_runtime(self) -> None:
        self._exit = contextlib.AsyncExitStack()
        self._runtime = Runtime(
            self.stack, self._deliver, self.time_factor, self.concurrency, duplicates=self.duplicates
        )
        # While moto starts (another process): load the AWS service models the clients need, so
        # making the clients once moto is up takes less (the session's loader caches them).
        self._aws = _session()
        for service in _SERVICES:
            await self._aws.get_service_model(service)

    async def _deliver(self, destination: str, record: dict[str, Any], function: Any) -> None:
        if self._delivery is not None:
            await self._delivery(destination, record, function)

    async def _setup(self, moto_url: str) -> None:
        from aiobotocore.config import AioConfig
        from aiohttp import web

        from records.sandbox.lambda_api import LambdaApi

        assert self._exit is not None and self._runtime is not None
        session = self._aws
        config = AioConfig(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=32)
        clients: dict[str, Any] = {}
        for service in _SERVICES:
            clients[service] = await self._exit.enter_async_context(
                session.create_client(
                    service,
                    region_name=self.region,
                    endpoint_url=moto_url,
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",
                    config=config,
                )
            )
        keys = await permissions.create_keys(self.stack, clients)
        await _create_resources(self.stack, clients, keys)
        await permissions.create_roles(self.stack, clients, keys)
        await permissions.create_rules(self.stack, clients)
        delivery = Delivery(clients, self.region, self.stack.account, self.on_delivery_failure)
        delivery.runtime = self._runtime
        delivery.permissions = roles = permissions.Permissions(self.stack, clients)
        self._delivery = delivery
        self._runtime.dead_letter = self._dead_letters = DeadLetters(clients, self._runtime, roles)
        metrics = Metrics(clients["cloudwatch"])
        self._runtime.metrics = self._metrics = metrics
        metrics.start()
        self._exit.push_async_callback(metrics.stop)  # the last counts go out before the clients close
        await self._runtime.start()
        self._exit.push_async_callback(self._runtime.stop)
        streams = StreamPollers(self.stack, self._runtime, delivery, dict(clients), moto_url, self.time_factor)
        self._exit.push_async_callback(streams.close)  # pollers stop before the runtime and the clients
        await streams.create_stack()
        api = LambdaApi(self._runtime, moto_url, roles)
        api.destination_exists = delivery.exists  # topics and buses are looked up when configured, as on AWS
        api.streams = streams
        # A short shutdown timeout: a long poll proxied to moto must not hold stop() for 20 s.
        runner = web.AppRunner(api.app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        self._exit.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        port = runner.addresses[0][1]  # the port the system chose when self.port is 0
        self._endpoint = f"http://{self.host}:{port}"
        self._runtime.set_worker_env(self.env)  # a handler's own AWS calls reach the sandbox

    def stop(self) -> None:
        """Stop everything; idempotent. No moto process is left behind."""
        with self._lock:
            atexit.unregister(self.stop)
            self._stop()

    def _stop(self) -> None:
        loop, thread = self._loop, self._thread
        self._endpoint = None
        if loop is not None and loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(20)
            except Exception:
                log.exception("sandbox: shutting down the endpoint failed")
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(15)
        if loop is not None and not loop.is_running():
            loop.close()
        self._loop = self._thread = self._exit = None
        self._runtime = None
        self._delivery = None
        self._metrics = None
        self._dead_letters = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    async def _shutdown(self) -> None:
        """Close the endpoint, the runtime and the clients; then end whatever task is left."""
        if self._exit is not None:
            try:
                await asyncio.wait_for(self._exit.aclose(), 10)
            except Exception:
                log.exception("sandbox: clean-up failed")
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.get_running_loop().shutdown_asyncgens()

    async def astart(self) -> None:
        """`start()` in a worker thread, so a running event loop is not blocked."""
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        """`stop()` in a worker thread, so a running event loop is not blocked."""
        await asyncio.to_thread(self.stop)

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Sandbox:
        await self.astart()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.astop()

    # -- observing ---------------------------------------------------------------------------------------

    def stats(self) -> SandboxStats:
        """The counts now: accepted, attempts, retries, succeeded, failed, records, delivered, the
        delivery failures and the records delivered per destination ARN (all zero when the sandbox
        is not running)."""
        runtime, delivery, dead = self._runtime, self._delivery, self._dead_letters
        if runtime is None or delivery is None:
            return SandboxStats()
        return SandboxStats(
            **dataclasses.asdict(runtime.stats),  # the runtime's counts, as they are now
            delivered=sum(delivery.stats.delivered.values()),
            delivery_failures=tuple(delivery.stats.failures),
            delivered_to=dict(delivery.stats.delivered),
            dead_lettered=sum(dead.stats.sent.values()) if dead is not None else 0,
            dead_letter_failures=tuple(dead.stats.failures) if dead is not None else (),
        )

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no invocation is pending (queued, running, waiting to retry or being
        delivered), then publish the metrics (`flush_metrics()`). True once every accepted
        invocation reached its outcome and was delivered (also when not running); False when
        `timeout` seconds passed first."""
        loop, runtime = self._loop, self._runtime
        if loop is None or runtime is None:
            return True
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(runtime.idle(), timeout), loop)
        try:
            future.result()
        except TimeoutError:
            return False
        self.flush_metrics()
        return True

    def flush_metrics(self) -> None:
        """Publish the CloudWatch counts now instead of within the next second (tests, doctor)."""
        loop, metrics = self._loop, self._metrics
        if loop is not None and metrics is not None:
            asyncio.run_coroutine_threadsafe(metrics.flush(), loop).result(10)

    async def await_idle(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 (runs on our loop)
        """`wait_idle(timeout)` in a worker thread, so a running event loop is not blocked."""
        return await asyncio.to_thread(self.wait_idle, timeout)


def _session() -> Any:
    from aiobotocore.session import get_session

    return get_session()


async def _create_resources(stack: Stack, clients: dict[str, Any], keys: dict[str, str]) -> None:
    sqs, sns, events, s3 = clients["sqs"], clients["sns"], clients["events"], clients["s3"]
    queue_arns: dict[str, str] = {}
    queue_urls: dict[str, str] = {}
    for name in stack.queues:
        attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
        key = stack.faults.key_of("queue", name)
        if key:
            attributes["KmsMasterKeyId"] = keys[key]
        queue_urls[name] = (await sqs.create_queue(QueueName=name, Attributes=attributes))["QueueUrl"]
        queue_arns[name] = stack.arn("queue", name)
    for name in stack.topics:
        attributes = {"FifoTopic": "true"} if name.endswith(".fifo") else {}
        key = stack.faults.key_of("topic", name)
        if key:
            attributes["KmsMasterKeyId"] = keys[key]
        await sns.create_topic(Name=name, Attributes=attributes)
    for name in stack.buses:
        if name != "default":
            await events.create_event_bus(Name=name)
    for name in stack.buckets:
        if stack.region == "us-east-1":
            await s3.create_bucket(Bucket=name)
        else:
            await s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": stack.region})
    for sub in stack.subscriptions:
        # The queue policy that lets the topic send, as a real subscription needs.
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arns[sub.queue],
                    "Condition": {"ArnEquals": {"aws:SourceArn": stack.arn("topic", sub.topic)}},
                }
            ],
        }
        await sqs.set_queue_attributes(QueueUrl=queue_urls[sub.queue], Attributes={"Policy": json.dumps(policy)})
        await sns.subscribe(
            TopicArn=stack.arn("topic", sub.topic),
            Protocol="sqs",
            Endpoint=queue_arns[sub.queue],
            Attributes={"RawMessageDelivery": "true" if sub.raw else "false"},
        )
