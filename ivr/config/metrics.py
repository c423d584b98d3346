"""Prometheus metrics: webhook latency and errors, fallbacks, queue sizes and longest waits,
estimate error, failed jobs.

Owns metric names and the registry. Counters and histograms are updated in-process by the web
app; queue gauges are read from Redis at scrape time (a custom collector), so any web process
reports the same truth. Under gunicorn with several workers set `PROMETHEUS_MULTIPROC_DIR` and
the exposition aggregates across processes (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

WEBHOOK_LATENCY = Histogram(
    "ivr_webhook_seconds", "Time to answer a Twilio webhook", ["endpoint"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
WEBHOOK_RESPONSES = Counter("ivr_webhook_responses_total", "Webhook answers", ["endpoint", "code"])
FALLBACKS = Counter("ivr_fallbacks_total", "Callers sent to the fallback route", ["endpoint"])
ESTIMATE_ERROR = Histogram(
    "ivr_estimate_error_seconds", "Announced wait minus actual wait, answered callers",
    buckets=(-600, -300, -120, -60, -30, 0, 30, 60, 120, 300, 600),
)


class QueueCollector(Collector):
    """Reads queue sizes and longest waits from the queue engine at scrape time."""

    def __init__(self, snapshots: Callable[[], Iterable[dict[str, Any]]]) -> None:
        self.snapshots = snapshots

    def collect(self) -> Iterator[GaugeMetricFamily]:
        size = GaugeMetricFamily("ivr_queue_callers", "Callers waiting", labels=["queue"])
        longest = GaugeMetricFamily("ivr_queue_longest_wait_seconds", "Longest current wait",
                                    labels=["queue"])
        try:
            for snap in self.snapshots():
                size.add_metric([snap["queue"]], float(snap.get("waiting", 0)))
                longest.add_metric([snap["queue"]], float(snap.get("longest_wait", 0)))
        except Exception:  # a scrape must not fail because Redis is down; gauges are empty
            pass
        yield size
        yield longest


class JobFailureCollector(Collector):
    """RQ jobs that failed for good (retries used up), per RQ queue, read from RQ's failed job
    registry in Redis at scrape time: jobs fail in worker processes, which serve no /metrics,
    and the registry is what an operator then inspects (`rq info`, requeue)."""

    def __init__(self, conn: Any, queues: Iterable[str]) -> None:
        self.conn, self.queues = conn, tuple(queues)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from rq.registry import FailedJobRegistry

        failed = GaugeMetricFamily("ivr_job_failures", "RQ jobs in the failed job registry",
                                   labels=["queue"])
        try:
            for name in self.queues:
                failed.add_metric([name], float(FailedJobRegistry(name, connection=self.conn)
                                                .count))
        except Exception:  # noqa: BLE001 - Redis down: an empty gauge, never a failed scrape
            pass
        yield failed


def exposition(*extra: Collector, multiprocess_dir: str | None = None) -> bytes:
    """The scrape's text: this process's registry, or every gunicorn worker's when
    `multiprocess_dir` (PROMETHEUS_MULTIPROC_DIR, `Config.prometheus_multiproc_dir`) is set,
    then the `extra` collectors."""
    if multiprocess_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry  # noqa: N811
    if not extra:
        return generate_latest(registry)
    combined = CollectorRegistry()
    for collector in extra:
        combined.register(collector)
    return generate_latest(registry) + generate_latest(combined)


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start
