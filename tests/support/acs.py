"""Raw-HTTP helpers for the ACS Phone Numbers wire: search, buy, release, poll, error shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

NEWEST = "2025-06-01"
TERMINAL = ("succeeded", "failed")

# A plan every version sells in the demo catalog: US toll-free numbers for applications.
US_TOLL_FREE = {
    "phoneNumberType": "tollFree",
    "assignmentType": "application",
    "capabilities": {"calling": "inbound+outbound", "sms": "none"},
}

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


def v(version: str, **params: Any) -> dict[str, Any]:
    return {"api-version": version, **params}


def assert_acs_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is `status` with the ACS error body `{"error": {"code", "message", ...}}`."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:500]}"
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip()
    assert media_type == "application/json", f"error Content-Type is {media_type!r}: {response.text[:200]}"
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict), body
    assert isinstance(error.get("code"), str) and error["code"], body
    assert isinstance(error.get("message"), str) and error["message"], body
    if code is not None:
        assert error["code"] == code, body
    return error


def poll(client: httpx.Client, operation_location: str, version: str, attempts: int = 100) -> list[httpx.Response]:
    """GET the operation until it is terminal; every response, in order."""
    seen = []
    for _ in range(attempts):
        response = client.get(operation_location)
        assert response.status_code == 200, response.text
        seen.append(response)
        if response.json()["status"] in TERMINAL:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"operation {operation_location} not terminal after {attempts} polls")


def start_search(client: httpx.Client, version: str, country: str = "US", quantity: int = 1,
                 plan: dict[str, Any] | None = None, **extra: Any) -> httpx.Response:
    body = {**(plan or US_TOLL_FREE), "quantity": quantity, **extra}
    response = client.post(f"/availablePhoneNumbers/countries/{country}/:search", params=v(version), json=body)
    assert response.status_code == 202, response.text
    return response


def search(client: httpx.Client, version: str, country: str = "US", quantity: int = 1,
           plan: dict[str, Any] | None = None) -> tuple[str, list[str]]:
    """Search and wait: the search id and the numbers it holds."""
    started = start_search(client, version, country, quantity, plan)
    poll(client, started.headers["Operation-Location"], version)
    result = client.get(started.headers["Location"])
    assert result.status_code == 200, result.text
    found = result.json()
    assert found["phoneNumbers"], found
    return found["searchId"], found["phoneNumbers"]


def purchase(client: httpx.Client, version: str, search_id: str) -> httpx.Response:
    response = client.post("/availablePhoneNumbers/:purchase", params=v(version), json={"searchId": search_id})
    assert response.status_code == 202, response.text
    return response


def cancel(client: httpx.Client, search_id: str, version: str = NEWEST) -> None:
    """Give back what a search holds (ignore a search that is already gone)."""
    client.delete(f"/phoneNumbers/operations/search_{search_id}", params=v(version))


def release(client: httpx.Client, number: str, version: str = NEWEST) -> None:
    response = client.delete(f"/phoneNumbers/{number}", params=v(version))
    assert response.status_code == 202, response.text  # also when not owned (any more): that release fails


@contextmanager
def bought(client: httpx.Client, quantity: int = 1, version: str = NEWEST, country: str = "US",
           plan: dict[str, Any] | None = None) -> Iterator[list[str]]:
    """Buy `quantity` numbers for the client's resource; released on the way out, whatever happens."""
    search_id, numbers = search(client, version, country, quantity, plan)
    try:
        op = purchase(client, version, search_id)
        final = poll(client, op.headers["Operation-Location"], version)[-1].json()
        assert final["status"] == "succeeded", final
        yield numbers
    finally:
        for number in numbers:
            release(client, number)
        cancel(client, search_id)
