"""Prometheus metrics: the HTTP histogram, operations, inventory gauges and build info.

Names follow the OpenTelemetry HTTP conventions as Prometheus exports them:
`http_server_request_duration_seconds{http_request_method, http_route,
http_response_status_code}`, where `http_route` is the route template (never the raw path:
a number or id in a label would make one series per number) and every unmatched path is
the one route `UNMATCHED_ROUTE`.

With several worker processes, prometheus-client's multiprocess mode keeps each worker's
samples in files under `PROMETHEUS_MULTIPROC_DIR` (the server sets it to a private
directory before any worker starts, see `server/metrics_dir.py`), and every scrape sums
them. prometheus-client picks its mode when it is first imported, so this module imports
it only inside functions: nothing may import it before the server has set the directory.

A request's duration is added to the histogram at the end of the event-loop turn that
answered it, together with the turn's other requests of the same method, route and status:
one `inc` of the sum and one per bucket touched, where observing each would write the
multiprocess file twice per request.
"""

from __future__ import annotations

import asyncio
import bisect
import os
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from numberpool import __version__
from numberpool.core.model import Operation

UNMATCHED_ROUTE = "unmatched"
"""The `http_route` label of every request no route matched (404, 405)."""

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
"""OpenTelemetry's known HTTP methods; any other method a client sends is labelled `OTHER_METHOD`."""
OTHER_METHOD = "_OTHER"  # so a client cannot make one series per made-up method

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
"""OpenTelemetry's advised buckets for `http.server.request.duration` (seconds)."""

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

InventorySource = Callable[[], Awaitable[dict[tuple[str, str, str], int]]]


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """One process's instruments; the module's `exposition()` renders what a scrape sees (all processes)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

        disable_created_metrics()  # as in multiprocess mode: one process or several, the same series
        # A private registry: several apps in one process (tests) never clash, and in
        # multiprocess mode it is never read (the scrape reads the files).
        self._registry = CollectorRegistry(auto_describe=True)
        self.requests = Histogram(
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests.",
            ["http_request_method", "http_route", "http_response_status_code"],
            buckets=DURATION_BUCKETS,
            registry=self._registry,
        )
        self.operations = Counter(
            "numberpool_operations",
            "Long-running operations recorded, by type and final status.",
            ["operation_type", "status"],
            registry=self._registry,
        )
        self.sweep = Gauge(
            "numberpool_sweep_last_success_timestamp_seconds",
            "When the sweep of expired holds last succeeded (the oldest among live processes).",
            registry=self._registry,
            multiprocess_mode="livemin",
        )
        self.workers = Gauge(
            "numberpool_worker_processes",
            "Live server processes answering requests.",
            registry=self._registry,
            multiprocess_mode="livesum",
        )
        self._observers: dict[tuple[str, str, int], Any] = {}  # the histogram's child of each label set
        self._pending: dict[tuple[str, str, int], list[float]] = {}  # this turn's durations, not yet observed
        self._pending_lock = threading.Lock()  # `--metrics-port` serves from a thread of its own
        self._operation_counters: dict[tuple[str, str], Callable[[], None]] = {}  # 5 types x 2 outcomes

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        if method not in KNOWN_METHODS:
            method = OTHER_METHOD
        key = (method, route, status)
        with self._pending_lock:
            pending = self._pending
            samples = pending.get(key)
            if samples is not None:
                samples.append(seconds)
                return
            pending[key] = [seconds]
            first = len(pending) == 1
        if first:
            try:
                asyncio.get_running_loop().call_soon(self.flush_requests)
            except RuntimeError:  # off an event loop: at once
                self.flush_requests()

    def flush_requests(self) -> None:
        """Add the durations observed since the last flush to the histogram."""
        with self._pending_lock:
            pending, self._pending = self._pending, {}
        for (method, route, status), samples in pending.items():
            child = self._observers.get((method, route, status))
            if child is None:
                if len(self._observers) > 10_000:  # bounded by routes x methods x statuses; a guard, not a cache policy
                    self._observers.clear()
                child = self._observers[(method, route, status)] = self.requests.labels(method, route, str(status))
            _observe_all(child, samples)

    def operation_recorded(self, operation: Operation) -> None:
        key = (operation.operation_type.value, operation.outcome.value)
        count = self._operation_counters.get(key)
        if count is None:
            count = self._operation_counters[key] = self.operations.labels(*key).inc
        count()

    def sweep_succeeded(self, epoch: float) -> None:
        self.sweep.set(epoch)

    def serving(self, epoch: float) -> None:
        """This process serves requests from now on (its sweep counts as fresh until it first runs)."""
        self.workers.set(1)
        self.sweep.set(epoch)


def _observe_all(child: Any, samples: list[float]) -> None:
    """`child.observe` of each sample, as one `inc` of the sum and one per bucket touched.

    Uses the histogram child's own buckets and sum (prometheus-client's `Histogram.observe` does
    the same per sample); a version without them gets one `observe` per sample.
    """
    bounds = getattr(child, "_upper_bounds", None)
    if len(samples) == 1 or bounds is None or not hasattr(child, "_buckets") or not hasattr(child, "_sum"):
        for seconds in samples:
            child.observe(seconds)
        return
    counts: dict[int, int] = {}
    for seconds in samples:
        bucket = bisect.bisect_left(bounds, seconds)  # the first bound >= seconds, as `observe` picks
        counts[bucket] = counts.get(bucket, 0) + 1
    child._sum.inc(sum(samples))
    for bucket, count in counts.items():
        child._buckets[bucket].inc(count)


async def exposition(local: Metrics | None, inventory: InventorySource | None) -> bytes:
    """The Prometheus text a scrape sees: every process's instruments (from the multiprocess
    directory when there is one, else `local`'s), the inventory (read now) and the build info."""
    from prometheus_client import CollectorRegistry, generate_latest

    if local is not None:
        local.flush_requests()  # this process's samples of the turn so far
    counts = await inventory() if inventory is not None else None
    directory = multiprocess_dir()
    source: Any = None
    if directory is not None:
        from prometheus_client.multiprocess import MultiProcessCollector

        source = CollectorRegistry()
        MultiProcessCollector(source, path=directory)
    elif local is not None:
        source = local._registry
    collectors = ([source] if source is not None else []) + [_ScrapeTime(counts)]
    return generate_latest(_Combined(*collectors))  # type: ignore[arg-type]


class _ScrapeTime:
    """Series computed when scraped: the inventory by country, type and state, and the build."""

    def __init__(self, counts: dict[tuple[str, str, str], int] | None) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        build = GaugeMetricFamily("numberpool_build_info", "The numberpool version serving.", labels=["version"])
        build.add_metric([__version__], 1)
        yield build
        if self.counts is not None:
            numbers = GaugeMetricFamily(
                "numberpool_phone_numbers",
                "Phone numbers by country, number type and state, as `numberpool inventory report` counts them.",
                labels=["country", "number_type", "state"],
            )
            for (country, number_type, state), count in sorted(self.counts.items()):
                numbers.add_metric([country, number_type, state], count)
            yield numbers


class _Combined:
    """Collects a registry and one more collector, without registering into the registry each scrape."""

    def __init__(self, *collectors: Any) -> None:
        self.collectors = collectors

    def collect(self) -> Iterator[Any]:
        for collector in self.collectors:
            yield from collector.collect()
