"""`/metrics`: names, labels (route templates, never a number or id), inventory gauges, workers, its own port."""

from __future__ import annotations

import os
import re
import signal
import ssl
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from numberpool import __version__
from numberpool.api.metrics import DURATION_BUCKETS, KNOWN_METHODS, OTHER_METHOD, UNMATCHED_ROUTE
from tests.support.acs import NEWEST, cancel, start_search, v
from tests.support.server import ServerProcess, free_port

HISTOGRAM = "http_server_request_duration_seconds"
# a phone number, an id (UUID, with or without an operation prefix), or any long run of digits
IDENTIFYING = re.compile(r"\d{5,}|[0-9a-f]{8}-[0-9a-f]{4}-|\+\d")
SEARCH_PLAN = {"phoneNumberType": "tollFree", "assignmentType": "application",
               "capabilities": {"calling": "inbound+outbound", "sms": "none"}}


def scrape(endpoint: str, ca: Path) -> dict[str, list]:
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), timeout=30) as client:
        response = client.get(f"{endpoint}/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def value(families: dict[str, list], sample_name: str, **labels: str) -> float:
    family = sample_name.removesuffix("_total").removesuffix("_count").removesuffix("_bucket").removesuffix("_sum")
    return sum(s.value for s in families.get(family, [])
               if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items()))


def inventory(families: dict[str, list], country: str, number_type: str) -> dict[str, float]:
    return {s.labels["state"]: s.value for s in families["numberpool_phone_numbers"]
            if s.labels["country"] == country and s.labels["number_type"] == number_type}


def test_labels_are_route_templates_and_never_a_number_or_id(server, http):
    started = start_search(http, NEWEST, quantity=2)
    operation = started.headers["Operation-Location"]
    http.get(operation)
    http.get("/phoneNumbers/+15550104477", params=v(NEWEST))
    http.get(f"/phoneNumbers/operations/search_{'1' * 8}-0000-4000-8000-{'2' * 12}", params=v(NEWEST))
    http.get("/no/such/path/+15550104477/12345678")
    http.delete("/availablePhoneNumbers/countries/US/:search", params=v(NEWEST))  # 405
    http.request("PROPFIND", "/phoneNumbers", params=v(NEWEST))  # a method no route serves
    cancel(http, started.headers["search-id"] if "search-id" in started.headers else started.headers["Location"]
           .rsplit("/", 1)[-1].split("?")[0])
    families = scrape(server.endpoint, server.ca)

    routes = {s.labels["http_route"] for s in families[HISTOGRAM]}
    assert "/phoneNumbers/{number}" in routes and "/phoneNumbers/operations/{operation_id}" in routes
    assert "/availablePhoneNumbers/countries/{country}/:search" in routes and UNMATCHED_ROUTE in routes
    for name, samples in families.items():
        for sample in samples:
            for label, text in sample.labels.items():
                assert not IDENTIFYING.search(text), (name, label, text)
    buckets = sorted({float(s.labels["le"]) for s in families[HISTOGRAM] if s.name == f"{HISTOGRAM}_bucket"})
    assert buckets == [*DURATION_BUCKETS, float("inf")]
    # The session's server also sees the other tests' requests (test_http_errors sends OPTIONS):
    # any of OpenTelemetry's known methods, and every other method as the one "_OTHER".
    methods = {s.labels["http_request_method"] for s in families[HISTOGRAM]}
    assert OTHER_METHOD in methods and methods <= KNOWN_METHODS | {OTHER_METHOD}
    assert value(families, f"{HISTOGRAM}_count", http_route="/phoneNumbers/{number}",
                 http_response_status_code="404") >= 1
    assert value(families, "numberpool_operations_total", operation_type="search", status="succeeded") >= 1
    assert value(families, "numberpool_build_info", version=__version__) == 1


def test_inventory_gauges_follow_a_search(server, http):
    before = inventory(scrape(server.endpoint, server.ca), "US", "tollFree")
    assert set(before) >= {"available", "held", "reserved", "purchased", "aging"}  # zeros too, for alerts
    started = start_search(http, NEWEST, quantity=3)
    # a count is reused for 20 times as long as it took (milliseconds here): wait that out
    after = settled(server, lambda counts: counts["held"] == before["held"] + 3)
    assert after["available"] == before["available"] - 3
    assert sum(after.values()) == sum(before.values())
    search_id = started.headers["Location"].split("?")[0].rsplit("/", 1)[-1]
    cancel(http, search_id)
    assert settled(server, lambda counts: counts == before)


def settled(server: ServerProcess, expected) -> dict[str, float]:
    deadline = time.monotonic() + 10
    while not expected(counts := inventory(scrape(server.endpoint, server.ca), "US", "tollFree")):
        assert time.monotonic() < deadline, counts
        time.sleep(0.05)
    return counts


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def _environ(pid: int) -> dict[str, str]:
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(entry.decode().split("=", 1) for entry in entries if b"=" in entry)


def _workers(pid: int) -> set[int]:
    """The uvicorn worker processes of a server (not multiprocessing's resource tracker)."""
    return {child for child in _children(pid)
            if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()}


def test_two_workers_sum_their_counts_and_a_dead_worker_leaves_no_stale_series(make_server):
    process = make_server("--workers", "2", "--inventory-size", "0")
    deadline = time.monotonic() + 30
    while value(scrape(process.endpoint, process.ca), "numberpool_worker_processes") < 2:  # both started
        assert time.monotonic() < deadline
        time.sleep(0.2)
    requests = 40
    for _ in range(requests):  # a new connection each: the kernel spreads them over both workers
        with httpx.Client(verify=ssl.create_default_context(cafile=str(process.ca))) as client:
            assert client.get(f"{process.endpoint}/livez").status_code == 200
    families = scrape(process.endpoint, process.ca)
    assert value(families, f"{HISTOGRAM}_count", http_route="/livez") == requests
    assert value(families, "numberpool_worker_processes") == 2

    workers = _workers(process.pid)
    assert len(workers) == 2, workers
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    # uvicorn replaces the worker; the replacement counts itself once its app has started (its
    # live gauge file appears). Without marking the dead one, the sum would then be 3.
    directory = Path(_environ(next(iter(workers - {victim})))["PROMETHEUS_MULTIPROC_DIR"])
    deadline = time.monotonic() + 60
    while True:
        current = _workers(process.pid)
        new = current - workers
        if new and all((directory / f"gauge_livesum_{pid}.db").exists() for pid in new):
            break
        assert time.monotonic() < deadline, ("no replacement worker", current)
        time.sleep(0.2)
    assert not (directory / f"gauge_livesum_{victim}.db").exists()
    while (live := value(families := scrape(process.endpoint, process.ca), "numberpool_worker_processes")) != 2:
        assert live < 2 and time.monotonic() < deadline, live  # the new worker's app is still starting
        time.sleep(0.2)
    # what the dead worker counted is kept: totals never go down
    assert value(families, f"{HISTOGRAM}_count", http_route="/livez") == requests


def test_metrics_port_serves_them_apart(make_server, http):
    port = free_port()
    process = make_server("--metrics-port", str(port), "--inventory-size", "0")
    with httpx.Client(verify=ssl.create_default_context(cafile=str(process.ca))) as client:
        assert client.get(f"{process.endpoint}/metrics").status_code == 404
        assert client.get(f"{process.endpoint}/livez").status_code == 200
    families = scrape(f"https://127.0.0.1:{port}", process.ca)
    assert value(families, f"{HISTOGRAM}_count", http_route="/livez") == 1
    assert value(families, "numberpool_build_info", version=__version__) == 1
    assert "numberpool_phone_numbers" in families


def test_a_turns_durations_land_in_the_buckets_and_sum_one_observe_each_would():
    import asyncio

    from prometheus_client import CollectorRegistry, Histogram

    from numberpool.api.metrics import Metrics

    durations = [0.001, 0.005, 0.0050001, 0.01, 0.3, 0.3, 7.5, 20.0, 0.0]
    metrics = Metrics()
    reference = Histogram("reference", "one observe each", buckets=DURATION_BUCKETS, registry=CollectorRegistry())

    async def one_turn() -> None:
        for seconds in durations:
            metrics.observe_request("GET", "/operations/{operationId}", 200, seconds)
            reference.observe(seconds)
        metrics.observe_request("BREW", "/operations/{operationId}", 200, 0.02)
        await asyncio.sleep(0)  # the turn ends: the durations are observed

    asyncio.run(one_turn())
    families = {f.name: f.samples for f in metrics._registry.collect()}
    expected = {f.name: f.samples for f in reference.collect()}

    def buckets(samples: list, **labels: str) -> list[tuple[str, str, float]]:
        return [(s.name.rsplit("_", 1)[1], s.labels.get("le", ""), s.value) for s in samples
                if all(s.labels.get(k) == v for k, v in labels.items()) and s.name.rsplit("_", 1)[1] != "created"]

    assert len(buckets(expected["reference"])) == len(DURATION_BUCKETS) + 3  # +Inf, count, sum
    assert buckets(families[HISTOGRAM], http_request_method="GET") == buckets(expected["reference"])
    assert value(families, f"{HISTOGRAM}_count", http_request_method=OTHER_METHOD) == 1
