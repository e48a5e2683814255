"""The Azure SDK team's own tests for azure-communication-phonenumbers 1.4.0, live against numberpool.

Their tests ship in the package's source distribution; `tests/support/sdk_team_suite.py`
fetches it from PyPI at test time (cached under the pytest cache, never copied into the
repository) and runs it in a pytest subprocess through the stand-ins of
`tests/sdk_team_standin/`: no test proxy, no recordings, every test live.

- The modules that talk to the service (sync and async clients, SIP routing) run against a
  real HTTPS server of each engine, with the purchase tests switched on.
- The modules that test the SDK's own code (models, utils, credentials) run once, offline.

Each of their tests is one item here, `<group>::<their test id>`. It passes when their test
passes. A test that cannot apply to numberpool is listed, with the reason, in
`docs/fidelity.md` ("The SDK team's own tests"): it is reported as an expected failure (or
as skipped, when their test skipped), and the item fails if a listed test passes, so the list
stays true. Without network to PyPI the whole suite is skipped with the reason printed, except
under CI, where it fails.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from azure.communication.phonenumbers import PhoneNumberCapabilities, PhoneNumbersClient
from azure.core.pipeline.transport import RequestsTransport

from tests.conftest import server_data_dir
from tests.support import sdk_team_suite as suite
from tests.support.locks import exclusive
from tests.support.server import ServerProcess

LIVE_GROUPS = ("sqlite", "postgres")
OFFLINE = "offline"
UNAVAILABLE = "unavailable"
THEIR_TESTS = pytest.StashKey[tuple[Path | None, list[str], str]]()


def _cache_dir(config: pytest.Config) -> Path:
    cache = getattr(config, "cache", None)  # None under -p no:cacheprovider
    if cache is not None:
        return cache.mkdir("sdk-team-suite")
    return Path(tempfile.gettempdir()) / "numberpool-sdk-team-suite"


def _test_ids(config: pytest.Config) -> tuple[Path | None, list[str], str]:
    """(their test folder, the items of this module, why not) — computed once per session."""
    if THEIR_TESTS not in config.stash:
        try:
            with exclusive(_cache_dir(config) / ".lock"):  # every xdist worker collects this module
                tests = suite.fetch_tests(_cache_dir(config))
                collected = suite.collect(tests, _cache_dir(config))
        except suite.SuiteUnavailable as unavailable:
            config.stash[THEIR_TESTS] = (None, [UNAVAILABLE], str(unavailable))
        else:
            live = set(suite.live_modules(tests))
            ids = [f"{group}::{test}" for group in LIVE_GROUPS for test in collected if test.split("::")[0] in live]
            ids += [f"{OFFLINE}::{test}" for test in collected if test.split("::")[0] not in live]
            config.stash[THEIR_TESTS] = (tests, ids, "")
    return config.stash[THEIR_TESTS]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "upstream_test" in metafunc.fixturenames:
        _, ids, _ = _test_ids(metafunc.config)
        metafunc.parametrize("upstream_test", ids, ids=ids)


@pytest.fixture(scope="session")
def their_tests(request: pytest.FixtureRequest) -> Path:
    tests, _, why_not = _test_ids(request.config)
    if tests is None:
        message = f"the SDK team's tests could not be fetched: {why_not}"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI is set, so they must run", pytrace=False)
        print(f"\nSKIPPED: {message}", file=sys.stderr)
        pytest.skip(message)
    return tests


# The live resource, as the SDK team's pipeline has it ------------------------------------------


def prepare_resource(server: ServerProcess) -> str:
    """What their live tests presume of the resource: a purchased number (theirs is
    AZURE_PHONE_NUMBER_<agent>) and at least one reservation (test_list_phone_numbers_reservations).
    Returns the purchased number."""
    transport = RequestsTransport(connection_verify=str(server.ca))
    try:
        client = PhoneNumbersClient.from_connection_string(server.connection_string, transport=transport)
        capabilities = PhoneNumberCapabilities(calling="inbound", sms="inbound+outbound")
        found = client.begin_search_available_phone_numbers(
            suite.COUNTRY, "tollFree", "application", capabilities, polling_interval=0).result()
        client.begin_purchase_phone_numbers(found.search_id, polling_interval=0).result()
        browsed = client.browse_available_phone_numbers(country_code=suite.COUNTRY, phone_number_type="tollFree")
        client.create_or_update_reservation(reservation_id=str(uuid.uuid4()), numbers_to_add=[browsed.phone_numbers[0]])
        return found.phone_numbers[0]
    finally:
        transport.close()


class Runs:
    """The SDK team's suite: one pytest subprocess per live module and server, plus one for the
    offline modules, all started together (their tests mostly wait on the SDK's 2 s polling),
    awaited per group."""

    def __init__(self, tests: Path, tmp_path_factory: pytest.TempPathFactory, development_ca: Path) -> None:
        self.tests = tests
        self._tmp = tmp_path_factory
        self._ca = development_ca
        self._servers: dict[str, ServerProcess] = {}
        self._started: dict[str, list[suite.PytestRun]] = {}
        self._done: dict[str, suite.Run] = {}
        self._failed: dict[str, BaseException] = {}

    def start(self, groups: set[str]) -> None:
        for group in LIVE_GROUPS:
            if group not in groups:
                continue
            try:
                self._start_live(group)
            except (Exception, pytest.skip.Exception, pytest.fail.Exception) as problem:
                self._failed[group] = problem
                self._stop_server(group)
        if OFFLINE in groups:
            self._started[OFFLINE] = [suite.PytestRun(self.tests, suite.offline_modules(self.tests), {}).start()]

    def _start_live(self, group: str) -> None:
        # browse picks at random: sync and async rarely pick the same number; --entra for their managed-identity tests
        args = ["--inventory-size", "200", "--entra"]
        server = ServerProcess(server_data_dir(self._tmp, self._ca, f"sdk-team-{group}"), *args, engine=group)
        self._servers[group] = server
        server.start()
        env = suite.live_environment(server.connection_string, server.ca, prepare_resource(server))
        self._started[group] = [suite.PytestRun(self.tests, [module], env).start() for module in suite.live_modules(self.tests)]

    def result(self, group: str) -> suite.Run:
        if group in self._failed:
            raise self._failed[group]
        if group not in self._done:
            self._done[group] = suite.Run.merge([run.wait() for run in self._started.pop(group)])
            self._stop_server(group)
        return self._done[group]

    def _stop_server(self, group: str) -> None:
        server = self._servers.pop(group, None)
        if server is not None:
            server.stop()

    def close(self) -> None:
        for group in list(self._started):
            with contextlib.suppress(Exception):
                self.result(group)
        for group in list(self._servers):
            self._stop_server(group)


def _groups_selected(session: pytest.Session) -> set[str]:
    """The groups the selected items need (`-k sqlite` starts no PostgreSQL server)."""
    groups = set()
    for item in session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "upstream_test" in params:
            groups.add(params["upstream_test"].split("::")[0])
        elif item.module is not None and item.module.__name__ == __name__ and "group" in params:
            groups.add(params["group"])
    return groups


@pytest.fixture(scope="session")
def runs(request: pytest.FixtureRequest, their_tests: Path, tmp_path_factory: pytest.TempPathFactory, development_ca: Path) -> Iterator[Runs]:
    started = Runs(their_tests, tmp_path_factory, development_ca)
    try:
        started.start(_groups_selected(request.session))
        yield started
    finally:
        started.close()


# One item per test of theirs ------------------------------------------------------------------


def test_sdk_team_test(upstream_test: str, runs: Runs) -> None:
    group, their_id = upstream_test.split("::", 1)
    outcome = runs.result(group).results.get(their_id)
    listed = suite.listed_reason(upstream_test, suite.fidelity_exceptions())
    assert outcome is not None, f"{their_id} was collected but did not run:\n{runs.result(group).output[-3000:]}"
    detail = outcome["detail"]
    if outcome["outcome"] == "passed":
        assert listed is None, f"docs/fidelity.md lists it ({listed}), but it passes: take it off the list"
    elif outcome["outcome"] == "skipped":
        if listed is None:
            pytest.fail(f"their test skipped ({detail}), and docs/fidelity.md does not list it", pytrace=False)
        pytest.skip(f"{detail} [docs/fidelity.md: {listed}]")
    else:
        if listed is None:
            pytest.fail(f"their test {outcome['outcome']}:\n{detail}", pytrace=False)
        pytest.xfail(f"docs/fidelity.md: {listed}")


# The harness itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("group", LIVE_GROUPS)
def test_purchase_tests_are_switched_on(group: str, runs: Runs) -> None:
    """Their files switch purchases off; here every such test of both clients runs (and passes, above)."""
    run = runs.result(group)
    enabled = {test.split("::")[0] for test in run.purchase_tests_enabled}
    purchase_modules = {m for m in suite.live_modules(runs.tests)
                        if suite.PURCHASE_REASON_CONSTANT in (runs.tests / m).read_text(encoding="utf-8")}
    assert purchase_modules and enabled == purchase_modules
    for test in run.purchase_tests_enabled:
        assert run.results[test]["outcome"] != "skipped", test


def test_every_listed_test_exists(request: pytest.FixtureRequest, their_tests: Path) -> None:
    """A row of docs/fidelity.md that matches none of their tests is stale."""
    _, ids, _ = _test_ids(request.config)
    exceptions = suite.fidelity_exceptions()
    assert exceptions, "docs/fidelity.md has no list of the SDK team's tests that cannot apply"
    stale = [pattern for pattern in exceptions if not any(fnmatchcase(test, pattern) for test in ids)]
    assert not stale, f"docs/fidelity.md lists patterns that match none of their tests: {stale}"


def test_the_stand_in_never_plays_back(their_tests: Path) -> None:
    """Not live, their test errors out (there are no recordings) instead of passing on made-up answers."""
    run = suite.PytestRun(their_tests, ["test_phone_number_administration_client.py"], {"AZURE_TEST_RUN_LIVE": "false"},
                          "-k", "test_list_countries and not managed_identity").start().wait()
    [(test, outcome)] = run.results.items()
    assert test.endswith("::test_list_countries")
    assert outcome["outcome"] == "error" and "no recordings to play back" in outcome["detail"], outcome
