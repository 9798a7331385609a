"""The CloudWatch metrics Lambda publishes for asynchronous invocation, published by the sandbox to
its moto CloudWatch (namespace AWS/Lambda, dimension FunctionName):

  Invocations                  every run of the handler: a RequestResponse invoke, each async attempt
  Errors                       a run that ended in a function error (or a timeout)
  Throttles                    an event refused for lack of concurrency (reserved concurrency 0)
  AsyncEventsReceived          an Event invoke accepted
  AsyncEventAge (ms)           how long an event waited before an attempt (real time, not scaled)
  AsyncEventsDropped           an event that ended without success (its failure record, if any, is sent)
  DestinationDeliveryFailures  a record that could not be delivered
  RecursiveInvocationsDropped  an invocation stopped by recursive loop detection (recursion.py)
  DeadLetterErrors             a discarded event that could not be sent to the dead-letter queue

The sandbox runs $LATEST only, so it publishes no Resource (qualifier) dimension. Counts are kept
in memory and sent every `interval` seconds as one PutMetricData call per 1000 series
(StatisticValues: sample count, sum, minimum, maximum), never one call per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

NAMESPACE = "AWS/Lambda"
BATCH = 1000  # PutMetricData's limit of metric data a call


class Metrics:
    """Collects counts on the sandbox's loop and flushes them to CloudWatch."""

    def __init__(self, cloudwatch: Any, interval: float = 1.0) -> None:
        self.cloudwatch = cloudwatch
        self.interval = interval
        self._series: dict[tuple[str, str], list[float]] = {}  # (function, metric) -> [n, sum, min, max]
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def count(self, function: str, metric: str, value: float = 1.0) -> None:
        series = self._series.get((function, metric))
        if series is None:
            self._series[(function, metric)] = [1.0, value, value, value]
        else:
            series[0] += 1
            series[1] += value
            series[2] = min(series[2], value)
            series[3] = max(series[3], value)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sandbox-metrics")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.flush()

    async def flush(self) -> None:
        """Send what was counted since the last flush (a failure is logged, never raised)."""
        async with self._lock:
            series, self._series = self._series, {}
            if not series:
                return
            now = datetime.now(UTC)
            data = [
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "FunctionName", "Value": function}],
                    "Timestamp": now,
                    "StatisticValues": {"SampleCount": n, "Sum": total, "Minimum": low, "Maximum": high},
                    "Unit": "Milliseconds" if metric == "AsyncEventAge" else "Count",
                }
                for (function, metric), (n, total, low, high) in series.items()
            ]
            for first in range(0, len(data), BATCH):
                try:
                    await self.cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[first : first + BATCH])
                except Exception:
                    log.warning("sandbox: publishing %d metric series failed", len(data), exc_info=True)
