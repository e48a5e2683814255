"""Replay the table of the real service's recorded answers against a real numberpool server.

Every row of tests/data/fidelity.toml is sent as raw HTTP at each api-version it applies
to, and judged on status, code, target and message (errors) or headers and keys
(successes). The agreement rate is printed and must be 100 % (messages: wherever the
recording's own text was not sanitised; sanitised ones are reported beside). Rows whose
condition an SDK user meets as an exception type are also driven through the official
Python SDK: a 404 must be `ResourceNotFoundError`, anything else must not be.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.communication.phonenumbers import PhoneNumberCapabilities
from azure.core import exceptions as azure_exceptions

from numberpool.api.versions import ACCEPTED
from numberpool.core.resources import DEV_RESOURCE_ID
from tests.conftest import signed_client
from tests.support import fidelity
from tests.support.acs import MERGE_PATCH, NEWEST, poll, release, start_search, v
from tests.support.sdk import sync_client
from tests.support.server import ServerProcess

ROWS = fidelity.load()
BY_ID = {row["id"]: row for row in ROWS}
UNOWNED = "+14155550100"  # the recordings' own number: valid, and no resource here owns it
FR_TOLL_FREE = {"phoneNumberType": "tollFree", "assignmentType": "application",
                "capabilities": {"calling": "inbound+outbound", "sms": "none"}}
US_TOLL_FREE = {**FR_TOLL_FREE}


class World:
    """What the rows' placeholders stand for, set up once per server."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.values: dict[str, str] = {"unowned": UNOWNED, "tenant": DEV_RESOURCE_ID}
        self.numbers: list[str] = []
        self.reservations: list[str] = []
        self.searches: list[str] = []

    def set_up(self) -> None:
        self.values["us_search"] = self._search("US", US_TOLL_FREE)
        self.values["fr_search"] = self._search("FR", FR_TOLL_FREE)
        self.values["owned_search"], self.values["owned"] = self._buy()
        update = self.client.patch(f"/phoneNumbers/{self.values['owned']}/capabilities", params=v(NEWEST),
                                   json={"calling": "inbound+outbound"}, headers=MERGE_PATCH)
        assert update.status_code == 202, update.text
        assert poll(self.client, update.headers["Operation-Location"], NEWEST)[-1].json()["status"] == "succeeded"
        self.values["capabilities_operation"] = update.headers["operation-id"]
        _, released = self._buy()
        release = self.client.delete(f"/phoneNumbers/{released}", params=v(NEWEST))
        assert release.status_code == 202, release.text
        assert poll(self.client, release.headers["Operation-Location"], NEWEST)[-1].json()["status"] == "succeeded"
        self.values["release_operation"] = release.headers["operation-id"]
        self.values["owned_id"] = self.values["owned"].lstrip("+")
        self.values["fr_reservation"] = self._reservation("FR")
        self.values["empty_reservation"] = self._reservation(None)
        self.values["us_reservation"] = self._reservation("US")
        self.values["emptied_reservation"] = self._reservation("US")  # its number, {reserved_id}, is taken out by a row
        deleted = self._reservation(None)
        assert self.client.delete(f"/availablePhoneNumbers/reservations/{deleted}", params=v(NEWEST)).status_code == 204
        self.values["deleted_reservation"] = deleted

    def _buy(self) -> tuple[str, str]:
        """A US toll-free number bought by the resource: the search id and the number."""
        search_id = self._search("US", US_TOLL_FREE)
        bought = self.client.post("/availablePhoneNumbers/:purchase", params=v(NEWEST), json={"searchId": search_id})
        assert bought.status_code == 202, bought.text
        assert poll(self.client, bought.headers["Operation-Location"], NEWEST)[-1].json()["status"] == "succeeded"
        result = self.client.get(f"/availablePhoneNumbers/searchResults/{search_id}", params=v(NEWEST)).json()
        number: str = result["phoneNumbers"][0]
        self.numbers.append(number)
        return search_id, number

    def _search(self, country: str, plan: dict[str, Any]) -> str:
        started = start_search(self.client, NEWEST, country, 1, plan)
        poll(self.client, started.headers["Operation-Location"], NEWEST)
        search_id = started.headers["search-id"]
        self.searches.append(search_id)
        return search_id

    def _reservation(self, country: str | None) -> str:
        reservation_id = str(uuid.uuid4())
        numbers: dict[str, Any] = {}
        if country is not None:
            browsed = self.client.post(f"/availablePhoneNumbers/countries/{country}/:browse", params=v(NEWEST),
                                       json={"phoneNumberType": "tollFree"})
            assert browsed.status_code == 200, browsed.text
            first = browsed.json()["phoneNumbers"][0]
            numbers[first["id"]] = {k: first[k] for k in ("countryCode", "capabilities", "phoneNumberType", "assignmentType")}
            self.values["reserved_id"] = first["id"]  # the last reservation's number
        made = self.client.patch(f"/availablePhoneNumbers/reservations/{reservation_id}", params=v(NEWEST),
                                 json={"phoneNumbers": numbers}, headers=MERGE_PATCH)
        assert made.status_code == 201, made.text
        self.reservations.append(reservation_id)
        return reservation_id

    def values_for(self, row: dict[str, Any]) -> dict[str, str]:
        """The row's own values (as recorded), the world's, and a fresh id where the row makes something new."""
        values = {**self.values, **row.get("request_values", {})}
        if "{new_reservation}" in str(row["request"]):
            values["new_reservation"] = str(uuid.uuid4())
            self.reservations.append(values["new_reservation"])
        return values

    def tear_down(self) -> None:
        for search_id in self.searches:
            found = self.client.get(f"/availablePhoneNumbers/searchResults/{search_id}", params=v(NEWEST))
            if found.status_code == 200:
                self.numbers += found.json()["phoneNumbers"]
            self.client.delete(f"/phoneNumbers/operations/search_{search_id}", params=v(NEWEST))
        for reservation_id in self.reservations:  # what a replayed reservation purchase bought
            purchase = f"/phoneNumbers/operations/reservationPurchase_{reservation_id}?api-version={NEWEST}"
            if self.client.get(purchase).status_code == 200:
                poll(self.client, purchase, NEWEST)
            found = self.client.get(f"/availablePhoneNumbers/reservations/{reservation_id}", params=v(NEWEST))
            if found.status_code == 200:
                self.numbers += [n["phoneNumber"] for n in found.json()["phoneNumbers"].values()
                                 if n.get("status") == "purchased"]
        for number in dict.fromkeys(self.numbers):
            release(self.client, number)
        for reservation_id in self.reservations:
            self.client.delete(f"/availablePhoneNumbers/reservations/{reservation_id}", params=v(NEWEST))


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> Iterator[World]:
    with signed_client(server) as client:
        made = World(client)
        try:
            made.set_up()
            yield made
        finally:
            made.tear_down()


def send(client: httpx.Client, row: dict[str, Any], version: str, values: dict[str, str]) -> httpx.Response:
    request = fidelity.render(row["request"], values)
    params = {"api-version": version, **request.get("query", {})}
    headers = {"Content-Type": request["content_type"]} if "content_type" in request else {}
    if request["method"] == "PATCH" and not headers:
        headers = MERGE_PATCH
    body = request.get("body")
    return client.request(request["method"], request["path"], params=params, headers=headers,
                          **({"json": body} if body is not None else {}))


def test_the_table_names_its_sources_and_every_row_is_replayed() -> None:
    """Every row has a source (or says why not), and every error row says whether its text was sanitised."""
    assert len(ROWS) == len(BY_ID), "duplicate row ids"
    for row in ROWS:
        assert row.get("sources") or row.get("provenance"), row["id"]
        for source in row.get("sources", []) + row.get("superseded", []):
            assert source["repo"] in ("Azure/azure-sdk-assets", "Azure/azure-sdk-for-net"), source
            assert len(source["commit"]) == 40 and source["path"] and source["recorded"], source
        if "code" in row:
            assert "sanitised" in row, row["id"]
        versions = fidelity.replay_versions(row)
        assert set(versions) <= set(ACCEPTED), (row["id"], versions)
        assert versions or row["request"].get("query", {}).get("api-version"), row["id"]


def test_docs_name_every_source() -> None:
    """docs/fidelity.md lists every recording the table rests on, with its commit."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "fidelity.md").read_text(encoding="utf-8")
    for row in ROWS:
        for source in row.get("sources", []) + row.get("superseded", []):
            name = source["path"].rsplit("/", 1)[-1]
            assert name in doc and source["commit"] in doc, (row["id"], name)


def test_replay_the_recorded_answers(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    verdicts: list[fidelity.Verdict] = []
    for row in ROWS:
        versions = fidelity.replay_versions(row) or [row["request"]["query"]["api-version"]]
        for version in versions:
            values = world.values_for(row)
            response = send(world.client, row, version, values)
            values["request_uri"] = str(response.request.url.copy_with(query=None))
            verdicts.append(fidelity.judge(row, version, response, values))
    rates = fidelity.rates(verdicts, BY_ID)
    with capsys.disabled():
        print(f"\nfidelity: {len(ROWS)} rows, {len(verdicts)} replays")
        for dimension, (agreed, total) in rates.items():
            print(f"  {dimension:<20} {agreed}/{total} = {100 * agreed / total:.1f} %")
    disagreements = [f"{d.row} @ {d.version}: {note}" for d in verdicts for note in d.notes]
    assert not disagreements, "\n".join(disagreements)
    assert {"status", "code", "target", "message", "message (sanitised)", "shape"} <= set(rates)


# ---------------------------------------------------------------- through the Python SDK

SDK_VERSIONS = ("2022-12-01", NEWEST)  # the oldest stable version the SDK speaks, and its default
SDK_CASES = [
    pytest.param(row, version, id=f"{row['id']}-{version}")
    for row in ROWS if "sdk" in row
    for version in SDK_VERSIONS if version in fidelity.replay_versions(row)
]


def _sdk_args(args: list[Any]) -> list[Any]:
    return [PhoneNumberCapabilities(**a) if isinstance(a, dict) else a for a in args]


@pytest.mark.parametrize(("row", "version"), SDK_CASES)
def test_the_sdk_raises_what_it_raises_against_the_service(
    world: World, connection_string: str, row: dict[str, Any], version: str
) -> None:
    sdk = fidelity.render(row["sdk"], world.values_for(row))
    wanted = getattr(azure_exceptions, sdk["raises"])
    with sync_client(connection_string, version) as client, pytest.raises(azure_exceptions.HttpResponseError) as caught:
        outcome = getattr(client, sdk["call"])(*_sdk_args(sdk.get("args", [])), **sdk.get("kwargs", {}))
        if hasattr(outcome, "__iter__") and not isinstance(outcome, (str, dict)):
            list(outcome)  # a pager asks on the first page
    error = caught.value
    assert type(error) is wanted, f"{type(error).__name__} is not {wanted.__name__}: {error}"
    assert error.status_code == sdk.get("status", row["status"]), error
    assert error.error is not None and error.error.code == row["code"], error
