"""The official Python SDK (azure-communication-phonenumbers) against a numberpool server."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from azure.communication.phonenumbers import PhoneNumberCapabilities, PhoneNumbersClient
from azure.communication.phonenumbers.aio import PhoneNumbersClient as AsyncPhoneNumbersClient
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.transport import RequestsTransport

from numberpool.core.resources import DEV_ACCESS_KEY
from tests.support.hmac_auth import HmacAuth
from tests.support.server import ServerProcess
from tests.support.validation import httpx_hooks, sdk_options

# The SDK's default api-version (2025-06-01) and the oldest stable one it can speak.
API_VERSIONS = [pytest.param(None, id="default"), pytest.param("2022-12-01", id="2022-12-01")]
RAW_API_VERSION = "2025-06-01"

TOLL_FREE_CAPS = PhoneNumberCapabilities(calling="inbound", sms="inbound+outbound")


def client_options(
    api_version: str | None, server: ServerProcess | None = None, *, asynchronous: bool = False
) -> dict[str, Any]:
    """Keyword arguments for `from_connection_string`; a private `server` is trusted by its own CA."""
    options: dict[str, Any] = sdk_options(asynchronous)  # every response checked against the official schema
    if api_version is not None:
        options["api_version"] = api_version
    if server is not None:
        options["connection_verify"] = str(server.ca)
    return options


@contextlib.contextmanager
def sync_client(
    connection_string: str, api_version: str | None, server: ServerProcess | None = None
) -> Iterator[PhoneNumbersClient]:
    """The sync client, whose pooled connections are closed afterwards (it has no `close()` of its own)."""
    transport = RequestsTransport(connection_verify=str(server.ca)) if server else RequestsTransport()
    try:
        yield PhoneNumbersClient.from_connection_string(connection_string, transport=transport, **client_options(api_version))
    finally:
        transport.close()


def async_client(
    connection_string: str, api_version: str | None, server: ServerProcess | None = None
) -> AsyncPhoneNumbersClient:
    return AsyncPhoneNumbersClient.from_connection_string(connection_string, **client_options(api_version, server, asynchronous=True))


def raw_client(server: ServerProcess, key: str = DEV_ACCESS_KEY) -> httpx.Client:
    """Signed raw HTTP to any server, trusting that server's CA."""
    return httpx.Client(
        base_url=server.endpoint, auth=HmacAuth(key), verify=ssl.create_default_context(cafile=str(server.ca)), timeout=30,
        event_hooks=httpx_hooks(),
    )


@contextlib.contextmanager
def _unless_not_owned() -> Iterator[None]:
    """Releasing a number the resource no longer owns is accepted, and that release fails."""
    try:
        yield
    except HttpResponseError as error:
        if "do not belong to the Tenant" not in getattr(error.error, "message", ""):
            raise


def release_quietly(client: PhoneNumbersClient, numbers: list[str]) -> None:
    """Give purchased numbers back (clean-up): numbers already released are fine."""
    for number in numbers:
        with _unless_not_owned():
            client.begin_release_phone_number(number, polling_interval=0).result()


async def release_quietly_async(client: AsyncPhoneNumbersClient, numbers: list[str]) -> None:
    for number in numbers:
        with _unless_not_owned():
            poller = await client.begin_release_phone_number(number, polling_interval=0)
            await poller.result()


def cancel_search(http: httpx.Client, search_id: str) -> httpx.Response:
    """DELETE the search's operation: the service gives the held numbers back."""
    return http.delete(f"/phoneNumbers/operations/search_{search_id}", params={"api-version": RAW_API_VERSION})
