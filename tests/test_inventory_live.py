"""A running server sells what the operator imports, within seconds, with no restart (both engines).

The server starts the operator's way (`serve --inventory-size 0 --catalog FILE`); then, while
it runs, `numberpool catalog import` adds a country and `numberpool inventory import` adds its
numbers. The official Python SDK then sees the country, its localities, area codes and
offerings, and buys an imported number at the catalog's price; after a price change, a new
purchase pays the new price and the number bought before keeps the price it was bought at.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from azure.communication.phonenumbers import PhoneNumberCapabilities, PhoneNumbersClient
from azure.core.exceptions import HttpResponseError

from tests.conftest import ENGINES, server_data_dir
from tests.support import postgres
from tests.support.sdk import client_options
from tests.support.server import ServerProcess

PICKUP_SECONDS = 5.0  # the promise: a running server sells an import within 5 s
T = TypeVar("T")

NL_ONLY = """\
[[countries]]
countryCode = "NL"

[[offerings]]
countryCode = "NL"
phoneNumberType = "geographic"
assignmentType = "application"
availableCapabilities = { calling = "inbound+outbound", sms = "none" }
cost = { amount = 1.25, currencyCode = "EUR", billingFrequency = "monthly" }
"""
WITH_BE = NL_ONLY + """
[[countries]]
countryCode = "BE"

[[offerings]]
countryCode = "BE"
phoneNumberType = "geographic"
assignmentType = "application"
availableCapabilities = { calling = "inbound+outbound", sms = "inbound+outbound" }
cost = { amount = 3.5, currencyCode = "EUR", billingFrequency = "monthly" }
"""
BE_NUMBERS = ["+3232345600", "+3232345601", "+3232345602", "+3292345600"]  # Antwerp (3), Ghent (9)


@pytest.fixture(params=ENGINES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "numberpool.db")
        return
    url = postgres.create_database()
    yield url
    postgres.drop_database(url)


def numberpool(database: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "numberpool", *args, "--database", database],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def within(seconds: float, probe: Callable[[], T | None]) -> tuple[T, float]:
    """The first truthy answer of `probe` and how long it took; fails after `seconds`."""
    started = time.monotonic()
    while True:
        answer = probe()
        if answer:
            return answer, time.monotonic() - started
        assert time.monotonic() - started < seconds, f"not seen within {seconds} s"
        time.sleep(0.2)


def test_a_running_server_sells_imported_numbers_at_the_catalog_price(
    database: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, development_ca: Path
) -> None:
    nl_only = tmp_path / "nl.toml"
    nl_only.write_text(NL_ONLY)
    server = ServerProcess(server_data_dir(tmp_path_factory, development_ca, "numberpool-live"),
                           "--inventory-size", "0", "--catalog", str(nl_only), "--database", database).start()
    try:
        client = PhoneNumbersClient.from_connection_string(server.connection_string, **client_options(None, server))
        assert {c.country_code for c in client.list_available_countries()} == {"NL"}

        with_be = tmp_path / "with-be.toml"
        with_be.write_text(WITH_BE)
        numbers = tmp_path / "be.csv"
        numbers.write_text("phoneNumber\n" + "\n".join(BE_NUMBERS) + "\n")
        numberpool(database, "catalog", "import", str(with_be))
        imported = numberpool(database, "inventory", "import", str(numbers))
        assert imported.stdout.strip() == "4 rows: added 4, already present 0, rejected 0"

        countries, _ = within(PICKUP_SECONDS + 1, lambda: {c.country_code: c.localized_name
                                                          for c in client.list_available_countries()})
        assert countries == {"NL": "Netherlands", "BE": "Belgium"}
        towns = {loc.localized_name for loc in client.list_available_localities("BE")}
        assert towns == {"Antwerp", "Ghent"}
        codes = {a.area_code for a in client.list_available_area_codes("BE", "geographic", assignment_type="application")}
        assert codes == {"3", "9"}
        offerings = list(client.list_available_offerings("BE"))
        assert [(o.phone_number_type, o.assignment_type, o.cost.amount, o.cost.currency_code) for o in offerings] == [
            ("geographic", "application", 3.5, "EUR")]

        caps = PhoneNumberCapabilities(calling="inbound+outbound", sms="inbound+outbound")

        def buy() -> tuple[str, float]:
            search = within(PICKUP_SECONDS + 1, lambda: _search(client, caps))[0]
            client.begin_purchase_phone_numbers(search.search_id, polling_interval=0).result()
            (number,) = search.phone_numbers
            return number, client.get_purchased_phone_number(number).cost.amount

        first, paid = buy()
        assert first == "+3232345600" and paid == 3.5

        repriced = tmp_path / "repriced.toml"
        repriced.write_text(WITH_BE.replace("amount = 3.5", "amount = 4.0"))
        numberpool(database, "catalog", "import", str(repriced))
        changed = time.monotonic()
        within(PICKUP_SECONDS + 1, lambda: [o for o in client.list_available_offerings("BE") if o.cost.amount == 4.0])
        time.sleep(max(0.0, PICKUP_SECONDS + 0.2 - (time.monotonic() - changed)))  # searches price within 5 s
        second, paid = buy()
        assert second != first and paid == 4.0
        assert client.get_purchased_phone_number(first).cost.amount == 3.5  # bought before the change
        report = [line.split() for line in numberpool(database, "inventory", "report").stdout.splitlines()]
        assert ["BE", "geographic", "3", "1", "2", "3"] in report  # available, purchased, total
    finally:
        server.stop()


def _search(client: PhoneNumbersClient, caps: PhoneNumberCapabilities):  # type: ignore[no-untyped-def]
    """A one-number BE search, or None while the server does not sell BE yet."""
    try:
        return client.begin_search_available_phone_numbers(
            "BE", "geographic", "application", caps, quantity=1, polling_interval=0).result()
    except HttpResponseError:
        return None
