"""Testing mode through the official Python SDK: fault rules, reset, and the control endpoints.

The servers are `numberpool.testing.NumberpoolServer` (what the pytest plugin runs), one per
engine, with a small inventory and a second resource. No test sleeps longer than a rule asks.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.communication.phonenumbers import PhoneNumberCapabilities, PhoneNumbersClient
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError, ServiceResponseError

from numberpool.api.app import create_app
from numberpool.api.call import Endpoint
from numberpool.api.operation_ids import OPERATION_IDS
from numberpool.core.context import Context
from numberpool.testing import NumberpoolError, NumberpoolServer
from tests.conftest import OTHER_KEY, OTHER_RESOURCE
from tests.support.reference import SPEC_ROOT, require_reference
from tests.support import postgres
from tests.support.acs import assert_acs_error
from tests.support.hmac_auth import HmacAuth

POOL = 20  # numbers per area code
CAPS = PhoneNumberCapabilities(calling="inbound+outbound", sms="none")
GEOGRAPHIC = ("US", "geographic", "application", CAPS)
V = {"api-version": "2025-06-01"}
SEARCH_BODY = {"phoneNumberType": "geographic", "assignmentType": "application", "areaCode": "425",
               "capabilities": {"calling": "inbound+outbound", "sms": "none"}}
THROTTLED = {"http": {"status": 429, "code": "TooManyRequests", "message": "Slow down."}}


def _start(database: str, *extra: str) -> NumberpoolServer:
    return NumberpoolServer(
        database=database, inventory_size=POOL,
        args=("--resource", f"{OTHER_RESOURCE}={OTHER_KEY}", *extra),
    ).start()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def numberpool_under_test(request: pytest.FixtureRequest) -> Iterator[NumberpoolServer]:
    database = postgres.create_database() if request.param == "postgres" else "memory"
    server = _start(database)
    yield server
    server.stop()
    if request.param == "postgres":
        postgres.drop_database(database)


@pytest.fixture()
def np(numberpool_under_test: NumberpoolServer) -> NumberpoolServer:
    numberpool_under_test.reset()
    return numberpool_under_test


def _client(np: NumberpoolServer, **options: Any) -> PhoneNumbersClient:
    return np.client(**options)


def _search(client: PhoneNumbersClient, quantity: int = 2, **options: Any) -> Any:
    return client.begin_search_available_phone_numbers(
        *GEOGRAPHIC, area_code="425", quantity=quantity, polling_interval=0, **options).result()


def _signed(np: NumberpoolServer, key: str | None = None) -> httpx.Client:
    from numberpool.core.resources import DEV_ACCESS_KEY

    return httpx.Client(base_url=np.endpoint, auth=HmacAuth(key or DEV_ACCESS_KEY), timeout=30,
                        verify=ssl.create_default_context(cafile=str(np.ca_path)))


def _admin(np: NumberpoolServer, token: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=np.endpoint, timeout=30, verify=ssl.create_default_context(cafile=str(np.ca_path)),
                        headers={"Authorization": f"Bearer {token or np.admin_token}"})


# --- the table of operationIds ----------------------------------------------------------


def _template(path: str) -> str:
    """A path with its parameter names blanked: `/phoneNumbers/{}`."""
    import re

    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_route_is_named_by_its_official_operation_id() -> None:
    ours = {(method, _template(path)): name for (method, path), name in OPERATION_IDS.items()}
    require_reference()
    specs = sorted(SPEC_ROOT.glob("**/phonenumbers.json"))
    assert specs, f"no OpenAPI files under {SPEC_ROOT}"
    official: dict[tuple[str, str], str] = {}
    for spec in specs:
        for path, methods in json.loads(spec.read_text())["paths"].items():
            for method, operation in methods.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    official[(method.upper(), _template(path))] = operation["operationId"].removeprefix("PhoneNumbers_")
    assert ours == official
    app = create_app(Context(store=None), [])  # type: ignore[arg-type]
    served = {(next(iter(r.methods - {"HEAD"})), r.path): r.endpoint.operation
              for r in app.routes if isinstance(r.endpoint, Endpoint)}
    assert served == OPERATION_IDS


# --- effects through the SDK ------------------------------------------------------------


def test_a_429_with_retry_after_is_retried_by_the_sdk_and_succeeds(np: NumberpoolServer) -> None:
    np.faults.add({"operation": "SearchAvailablePhoneNumbers", "times": 1,
                   "effect": {"http": {**THROTTLED["http"], "retryAfterSeconds": 1}}})
    started = time.monotonic()
    result = _search(_client(np))
    assert len(result.phone_numbers) == 2
    assert time.monotonic() - started >= 0.9  # the SDK waited as Retry-After said
    (rule,) = np.faults.list()
    assert rule["hits"] == 1 and rule["remaining"] == 0


def test_a_post_429_without_retry_after_is_not_retried(np: NumberpoolServer) -> None:
    np.faults.add({"operation": "SearchAvailablePhoneNumbers", "effect": THROTTLED})
    with pytest.raises(HttpResponseError) as raised:
        _search(_client(np))
    assert raised.value.status_code == 429
    assert raised.value.error is not None and raised.value.error.code == "TooManyRequests"
    assert np.faults.list()[0]["hits"] == 1  # one request: the application saw the first answer


def test_an_operation_failure_on_purchase_leaves_the_numbers_available(np: NumberpoolServer) -> None:
    client = _client(np)
    found = _search(client)
    np.faults.add({"operation": "PurchasePhoneNumbers",
                   "effect": {"operationFailure": {"code": "PurchaseFailed", "message": "The carrier said no."}}})
    with pytest.raises(HttpResponseError) as raised:
        client.begin_purchase_phone_numbers(found.search_id, polling_interval=0).result()
    assert "PurchaseFailed" in str(raised.value) and "The carrier said no." in str(raised.value)
    assert list(client.list_purchased_phone_numbers()) == []
    # Nothing stays held: a search for every number of the area code finds the two again.
    np.faults.clear()
    everything = _search(client, quantity=POOL)
    assert set(found.phone_numbers) <= set(everything.phone_numbers)


def test_an_operation_failure_on_search_is_carried_by_the_search_result(np: NumberpoolServer) -> None:
    np.faults.add({"operation": "SearchAvailablePhoneNumbers", "countryCode": "US",
                   "effect": {"operationFailure": {"code": "OutOfStock", "message": "None left."}}})
    with pytest.raises(HttpResponseError) as raised:
        _search(_client(np))
    assert "OutOfStock" in str(raised.value)
    with _signed(np) as http:
        started = http.post("/availablePhoneNumbers/countries/US/:search", params=V, json=SEARCH_BODY)
        assert started.status_code == 202
        result = http.get(started.headers["Location"]).json()
        assert result["error"] == "OutOfStock" and result["phoneNumbers"] == []
        operation = http.get(started.headers["Operation-Location"]).json()
        assert operation["status"] == "failed" and operation["error"]["code"] == "OutOfStock"
    # Holding nothing: all of the area code is still there.
    np.faults.clear()
    assert len(_search(_client(np), quantity=POOL).phone_numbers) == POOL


def test_operation_failures_on_release_and_capabilities_change_nothing(np: NumberpoolServer) -> None:
    client = _client(np)
    found = _search(client, quantity=1)
    client.begin_purchase_phone_numbers(found.search_id, polling_interval=0).result()
    (number,) = found.phone_numbers
    np.faults.add({"operation": "ReleasePhoneNumber", "phoneNumber": "+1425*",
                   "effect": {"operationFailure": {"code": "ReleaseFailed"}}},
                  {"operation": "UpdateCapabilities", "effect": {"operationFailure": {"code": "UpdateFailed"}}})
    with pytest.raises(HttpResponseError, match="ReleaseFailed"):
        client.begin_release_phone_number(number, polling_interval=0).result()
    with pytest.raises(HttpResponseError, match="UpdateFailed"):
        client.begin_update_phone_number_capabilities(number, calling="outbound", polling_interval=0).result()
    kept = client.get_purchased_phone_number(number)
    assert kept.capabilities.calling == "inbound+outbound"
    assert [rule["hits"] for rule in np.faults.list()] == [1, 1]


def test_operation_latency_keeps_the_operation_running_until_the_clock_passes_it(np: NumberpoolServer) -> None:
    np.faults.add({"operation": "SearchAvailablePhoneNumbers", "times": 1, "effect": {"operationLatencySeconds": 3600}})
    with _signed(np) as http:
        started = http.post("/availablePhoneNumbers/countries/US/:search", params=V, json=SEARCH_BODY)
        operation = started.headers["Operation-Location"]
        assert http.get(operation).json()["status"] in ("notStarted", "running")
        np.clock.advance(3601)
        assert http.get(operation).json()["status"] == "succeeded"


def test_latency_reaches_the_client_as_a_timeout(np: NumberpoolServer) -> None:
    np.faults.add({"operation": "ListAvailableCountries", "effect": {"latencyMs": 1500}})
    client = _client(np, retry_total=0)
    with pytest.raises(ServiceResponseError):
        list(client.list_available_countries(read_timeout=0.3))
    np.faults.clear()
    assert any(c.country_code == "US" for c in client.list_available_countries())


def test_disconnect_reaches_the_client_as_a_connection_error(np: NumberpoolServer) -> None:
    np.faults.add({"operation": "ListPhoneNumbers", "effect": {"disconnect": True}})
    with pytest.raises((ServiceRequestError, ServiceResponseError)):
        list(_client(np, retry_total=0).list_purchased_phone_numbers())
    # Once only: the SDK's own retry of a dropped connection then succeeds.
    np.faults.replace({"operation": "ListPhoneNumbers", "times": 1, "effect": {"disconnect": True}})
    assert list(_client(np).list_purchased_phone_numbers()) == []
    assert np.faults.list()[0]["hits"] == 1
    # The access log records a dropped request as 444 (closed without a response), never a 500.
    deadline = time.monotonic() + 5
    while not any('"event": "GET /phoneNumbers 444"' in line for line in list(np.output)):
        assert time.monotonic() < deadline, "\n".join(np.output)
        time.sleep(0.05)
    assert not any('"event": "GET /phoneNumbers 500"' in line for line in list(np.output))


def test_rules_match_by_resource_and_the_first_match_wins(np: NumberpoolServer) -> None:
    np.faults.add({"resource": OTHER_RESOURCE, "effect": {"http": {"status": 503, "code": "ServiceUnavailable"}}},
                  {"operation": "ListAvailableCountries", "effect": {"http": {"status": 418, "code": "Teapot"}}},
                  {"operation": "ListAvailableCountries", "effect": {"http": {"status": 500, "code": "Never"}}})
    with _signed(np) as mine, _signed(np, OTHER_KEY) as theirs:
        assert_acs_error(mine.get("/availablePhoneNumbers/countries", params=V), 418, "Teapot")
        assert mine.get("/phoneNumbers", params=V).status_code == 200
        assert_acs_error(theirs.get("/phoneNumbers", params=V), 503, "ServiceUnavailable")
    assert [rule["hits"] for rule in np.faults.list()] == [1, 1, 0]


def test_probability_lets_some_requests_through(np: NumberpoolServer) -> None:
    np.faults.add({"operation": "ListAvailableCountries", "probability": 0.5, "effect": THROTTLED})
    with _signed(np) as http:
        statuses = [http.get("/availablePhoneNumbers/countries", params=V).status_code for _ in range(60)]
    assert set(statuses) == {200, 429}  # 2 * 0.5**60: never in practice
    assert np.faults.list()[0]["hits"] == statuses.count(429)


# --- reset ------------------------------------------------------------------------------


def test_reset_gives_a_clean_inventory(np: NumberpoolServer) -> None:
    client = _client(np)
    other = PhoneNumbersClient.from_connection_string(
        f"endpoint={np.endpoint};accesskey={OTHER_KEY}", connection_verify=str(np.ca_path))
    bought = _search(client, quantity=3)
    client.begin_purchase_phone_numbers(bought.search_id, polling_interval=0).result()
    _search(client, quantity=2)  # held, not bought
    theirs = _search(other, quantity=1)
    other.begin_purchase_phone_numbers(theirs.search_id, polling_interval=0).result()
    np.faults.add({"operation": "GetOperation", "effect": {"latencyMs": 1}})
    np.clock.advance(60)

    np.reset(OTHER_RESOURCE)  # one resource: the other keeps its numbers, rules and the clock stay
    assert list(other.list_purchased_phone_numbers()) == []
    assert len(list(client.list_purchased_phone_numbers())) == 3
    assert len(np.faults.list()) == 1 and np.clock.offset == 60

    np.reset()
    assert list(client.list_purchased_phone_numbers()) == []
    assert np.faults.list() == [] and np.clock.offset == 0
    assert len(_search(client, quantity=POOL).phone_numbers) == POOL  # nothing held or owned any more
    with _signed(np) as http:
        gone = http.get(f"/availablePhoneNumbers/searchResults/{bought.search_id}", params=V)
        assert_acs_error(gone, 404)


# --- the control endpoints themselves -----------------------------------------------------


@pytest.mark.parametrize(("rule", "target"), [
    ({}, "rules[0].effect"),
    ({"effect": {}}, "rules[0].effect"),
    ({"effect": {"http": {"status": 429, "code": "X"}, "disconnect": True}}, "rules[0].effect.disconnect"),
    ({"effect": {"http": {"status": 200, "code": "X"}}}, "rules[0].effect.http.status"),
    ({"effect": {"http": {"status": "429", "code": "X"}}}, "rules[0].effect.http.status"),
    ({"effect": {"http": {"status": 429, "code": "X", "retryAfterSeconds": -1}}},
     "rules[0].effect.http.retryAfterSeconds"),
    ({"effect": {"http": {"status": 429, "code": "two words"}}}, "rules[0].effect.http.code"),
    ({"effect": {"latencyMs": True}}, "rules[0].effect.latencyMs"),
    ({"effect": {"latencyMs": 10**9}}, "rules[0].effect.latencyMs"),
    ({"effect": {"disconnect": False}}, "rules[0].effect.disconnect"),
    ({"effect": {"operationFailure": {"code": "X"}}}, "rules[0].operation"),
    ({"operation": "ListPhoneNumbers", "effect": {"operationLatencySeconds": 5}}, "rules[0].operation"),
    ({"operation": "Teleport", "effect": {"latencyMs": 1}}, "rules[0].operation"),
    ({"countryCode": "usa", "effect": {"latencyMs": 1}}, "rules[0].countryCode"),
    ({"phoneNumber": "+1 425", "effect": {"latencyMs": 1}}, "rules[0].phoneNumber"),
    ({"probability": 0, "effect": {"latencyMs": 1}}, "rules[0].probability"),
    ({"probability": 1.5, "effect": {"latencyMs": 1}}, "rules[0].probability"),
    ({"times": 0, "effect": {"latencyMs": 1}}, "rules[0].times"),
    ({"times": 1.5, "effect": {"latencyMs": 1}}, "rules[0].times"),
    ({"resource": 7, "effect": {"latencyMs": 1}}, "rules[0].resource"),
    ({"colour": "red", "effect": {"latencyMs": 1}}, "rules[0].colour"),
    ("rule", "rules[0]"),
])
def test_rules_are_validated_field_by_field(np: NumberpoolServer, rule: Any, target: str) -> None:
    with _admin(np) as admin:
        for method in ("POST", "PATCH"):
            error = assert_acs_error(admin.request(method, "/_numberpool/faults", json={"rules": [rule]}), 400,
                                     "BadRequest")
            assert error.get("target") == target, error
        assert admin.get("/_numberpool/faults").json() == {"rules": []}


def test_control_bodies_and_tokens_are_checked(np: NumberpoolServer) -> None:
    with _admin(np) as admin, _admin(np, "not-the-token") as wrong:
        assert_acs_error(admin.post("/_numberpool/faults", json={"rule": []}), 400)
        assert_acs_error(admin.post("/_numberpool/faults", json={"rules": {}}), 400)
        assert_acs_error(admin.post("/_numberpool/faults", json={"rules": [{"effect": {"latencyMs": 1}}] * 101}), 400)
        assert_acs_error(admin.post("/_numberpool/faults", content=b"{", headers={"Content-Type": "application/json"}),
                         400)
        assert_acs_error(admin.post("/_numberpool/faults", content=b"{}", headers={"Content-Type": "text/plain"}), 415)
        assert_acs_error(admin.post("/_numberpool/reset", json={"resource": 5}), 400)
        assert_acs_error(admin.post("/_numberpool/reset", json={"everything": True}), 400)
        assert_acs_error(wrong.get("/_numberpool/faults"), 401, "Unauthorized")
        assert_acs_error(wrong.post("/_numberpool/reset"), 401, "Unauthorized")
        assert_acs_error(httpx.get(f"{np.endpoint}_numberpool/faults", verify=ssl.create_default_context(cafile=str(np.ca_path))), 401)
    with pytest.raises(NumberpoolError, match="400"):
        np.faults.add({"effect": {}})


def test_without_testing_mode_the_control_endpoints_do_not_exist(http: httpx.Client) -> None:
    for method, path in (("GET", "/_numberpool/faults"), ("POST", "/_numberpool/faults"),
                         ("POST", "/_numberpool/reset"), ("GET", "/_numberpool/clock")):
        assert_acs_error(http.request(method, path, headers={"Authorization": "Bearer x"}), 404, "NotFound")


# --- several processes on one database -----------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def two_processes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[NumberpoolServer, NumberpoolServer]]:
    database = postgres.create_database() if request.param == "postgres" else str(tmp_path / "shared.db")
    # Every process on one database needs the same keys secret (server/keys_secret.py); each
    # NumberpoolServer has its own data directory, so the default <data-dir>/keys.secret differs.
    secret = tmp_path / "keys.secret"
    secret.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    a = _start(database, "--keys-secret-file", str(secret))
    b = _start(database, "--keys-secret-file", str(secret))
    yield a, b
    a.stop()
    b.stop()
    if request.param == "postgres":
        postgres.drop_database(database)


def test_every_process_obeys_the_rules_and_hits_are_counted_once(
        two_processes: tuple[NumberpoolServer, NumberpoolServer]) -> None:
    a, b = two_processes
    a.faults.add({"operation": "ListAvailableCountries", "times": 5, "effect": THROTTLED})
    time.sleep(0.3)  # each process reads the rules again within 0.2 s

    def ask(server: NumberpoolServer) -> int:
        with _signed(server) as http:
            return http.get("/availablePhoneNumbers/countries", params=V).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(ask, [a, b] * 20))
    assert statuses.count(429) == 5, statuses
    (rule,) = b.faults.list()
    assert rule["hits"] == 5 and rule["remaining"] == 0
    # A reset through one process sets every process's clock back, though a clock only moves forward.
    assert a.clock.advance(600) == 600
    time.sleep(0.3)
    assert b.clock.offset == 600
    b.reset()
    time.sleep(0.3)
    assert a.faults.list() == [] and ask(a) == 200
    assert a.clock.offset == 0


# --- the per-process copy -----------------------------------------------------------------


class _CountingStore:
    """A rule store that counts how often it is asked."""

    def __init__(self, rules: list[Any]) -> None:
        self.rules = rules
        self.calls: list[str] = []

    async def faults_version(self) -> int:
        self.calls.append("version")
        return 1

    async def fault_rules(self) -> tuple[int, list[Any]]:
        self.calls.append("rules")
        return 1, self.rules

    async def claim_fault_hit(self, rule_id: str) -> int | None:
        self.calls.append("claim")
        return -1


async def test_without_rules_a_request_asks_the_store_nothing_within_the_cache_time() -> None:
    from numberpool.core.faults import FaultBook, Target

    store = _CountingStore([])
    book = FaultBook(store, max_age=60)  # type: ignore[arg-type]
    for _ in range(1000):
        assert await book.match(Target("GetOperation", "devresource")) is None
    assert store.calls == ["version", "rules"]  # once, at the first request


async def test_a_phone_number_glob_reads_the_numbers_only_when_asked() -> None:
    from numberpool.core.faults import Effect, FaultBook, ListedRule, Rule, Target

    rule = Rule(id="r", effect=Effect(disconnect=True), phone_number="+1425*")
    book = FaultBook(_CountingStore([ListedRule(rule, 0, None)]), max_age=60)  # type: ignore[arg-type]
    asked: list[int] = []

    def numbers(found: tuple[str, ...]) -> Any:
        return lambda: asked.append(1) or found

    assert await book.match(Target("GetByNumber", "r", phone_numbers=numbers(("+14255550100",)))) == rule
    assert await book.match(Target("GetByNumber", "r", phone_numbers=numbers(("+12065550100",)))) is None
    assert len(asked) == 2


def test_the_servers_token_runs_the_sdk_and_follows_the_test_clock(np: NumberpoolServer) -> None:
    """`.token()` is an Entra ID token the plugin's server accepts, valid from the service's now."""
    from azure.core.credentials import AccessToken

    class Credential:
        def __init__(self, token: str) -> None:
            self.token = token

        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken(self.token, int(time.time()) + 3600)

    before = np.token()
    np.clock.advance(2 * 3600)  # past the first token's hour
    client = PhoneNumbersClient(np.endpoint, Credential(np.token()))
    assert [country.country_code for country in client.list_available_countries()]
    stale = PhoneNumbersClient(np.endpoint, Credential(before))
    with pytest.raises(ClientAuthenticationError):
        list(stale.list_available_countries())
