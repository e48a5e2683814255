"""Every response the suite receives, validated against its api-version's official schema.

Hooked into the signed raw clients (`http`, `other_http`, `raw_client`: an httpx response
event hook) and into the Python SDK clients of `tests/support/sdk.py` (an azure-core
per-retry policy, so every attempt is seen). A mismatch raises `SchemaMismatch` out of the
call, failing the test.

Checked: responses to an api-version whose OpenAPI file is in the reference folder
(`tests.support.schema.spec_file`), on a path and method that version's spec declares.
Skipped (nothing to check against): other api-versions, unknown paths, undeclared methods
(the 404 and 405 tests), and requests whose api-version is missing or unknown.

The recorded deviations of the real service from its spec (see tests/test_wire_schema.py) are
applied here too: `resourceLocation` may be null, the search 202 has no body, and the
capabilities 202 has the body `{"capabilitiesUpdateId": ...}`, and the reservations list
ends with `"nextLink": null`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import AsyncHTTPPolicy, SansIOHTTPPolicy

from tests.support.schema import ApiSchema, SchemaMismatch, spec_file

# The service's nulls the spec cannot express (Swagger 2.0; definitions a version lacks are
# skipped): an operation's resourceLocation
# (py_test_purchase_phone_numbers.json) and the last page's nextLink of the catalog lists
# (py test_list_countries/localities/offerings/toll_free_area_codes) and of reservations
# (py test_list_phone_numbers_reservations).
NULLABLE = {
    "PhoneNumberOperation": ["resourceLocation"],
    "PhoneNumberCountries": ["nextLink"],
    "PhoneNumberLocalities": ["nextLink"],
    "PhoneNumberLocality": ["administrativeDivision"],  # Ireland's mobile numbers (Java, 2025-06-18)
    "PhoneNumberAreaCodes": ["nextLink"],
    "OfferingsResponse": ["nextLink"],
    "PhoneNumbersReservations": ["nextLink"],
    # operator information: type, country and operator null unless asked for, and the operator's
    # network codes null (Java searchOperatorInformationRespectsSearchOptions, 2024-03-01)
    "OperatorInformation": ["isoCountryCode", "numberType", "operatorDetails"],
    "OperatorDetails": ["mobileNetworkCode", "mobileCountryCode"],
}
SEARCH = "/availablePhoneNumbers/countries/{countryCode}/:search"
CAPABILITIES = "/phoneNumbers/{phoneNumber}/capabilities"

checked: list[tuple[str, str, int]] = []
"""(method, path template, status) of every response validated, for the suite's own self-test."""


@cache
def _schema(version: str) -> ApiSchema | None:
    if not spec_file(version).is_file():
        return None
    return ApiSchema(version, nullable=NULLABLE)


def check(method: str, url: str, status: int, headers: Mapping[str, str], content: bytes) -> None:
    """Validate one response; raises SchemaMismatch when it does not match its version's spec."""
    parts = urlsplit(url)
    versions = parse_qs(parts.query).get("api-version")
    if not versions:
        return
    spec = _schema(versions[0])
    if spec is None:
        return
    try:
        template = spec.template_for(parts.path)
        spec.operation(template, method)
    except SchemaMismatch:
        return  # not an operation of this version: the unknown-route and wrong-method tests
    where = f"{method} {parts.path}?{parts.query} -> {status}"
    if status == 202 and method == "POST" and template == SEARCH:
        if content:
            raise SchemaMismatch(f"{where}: the search 202 has no body, got {content[:300]!r}")
        _record(method, template, status)
        return
    if status == 202 and method == "PATCH" and template == CAPABILITIES:
        body = _json(where, headers, content)
        if set(body) != {"capabilitiesUpdateId"} or not isinstance(body["capabilitiesUpdateId"], str):
            raise SchemaMismatch(f"{where}: expected {{'capabilitiesUpdateId': str}}, got {body!r}")
        _record(method, template, status)
        return
    pointer = spec.response_pointer(template, method, status)
    if pointer is None:
        if content:
            raise SchemaMismatch(f"{where} declares no body, got {content[:300]!r}")
    else:
        spec.validate(_json(where, headers, content), template, method, status)
    _record(method, template, status)


def _json(where: str, headers: Mapping[str, str], content: bytes) -> Any:
    media_type = headers.get("content-type", "").split(";", 1)[0].strip()
    if media_type != "application/json":
        raise SchemaMismatch(f"{where}: Content-Type is {media_type!r}, body {content[:300]!r}")
    try:
        return json.loads(content)
    except ValueError:
        raise SchemaMismatch(f"{where}: body is not JSON: {content[:300]!r}") from None


def _record(method: str, template: str, status: int) -> None:
    checked.append((method, template, status))


# ---------------------------------------------------------------- httpx


def httpx_hook(response: httpx.Response) -> None:
    response.read()
    request = response.request
    check(request.method, str(request.url), response.status_code, response.headers, response.content)


def httpx_hooks() -> dict[str, list[Any]]:
    """`event_hooks=` for an httpx.Client whose every response is validated."""
    return {"response": [httpx_hook]}


# ---------------------------------------------------------------- azure-core (the SDK)


class SchemaPolicy(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Validates every HTTP response the SDK receives (install as a per-retry policy)."""

    def on_response(self, request: PipelineRequest, response: PipelineResponse) -> None:  # type: ignore[type-arg]
        http_request = request.http_request
        http_response = response.http_response
        check(
            http_request.method,
            http_request.url,
            http_response.status_code,
            http_response.headers,
            http_response.body() or b"",
        )


class AsyncSchemaPolicy(AsyncHTTPPolicy):  # type: ignore[type-arg]
    """The same for the async client, whose aiohttp responses are read on demand."""

    async def send(self, request: PipelineRequest) -> PipelineResponse:  # type: ignore[type-arg]
        response = await self.next.send(request)
        http_response = response.http_response
        content = getattr(http_response, "_content", b"")
        if content is None:  # streamed (the LRO first calls): read it now, and it stays readable...
            if http_response.headers.get("content-length") == "0":
                content = b""  # ...except an empty body, which azure-core would then refuse to read again
            else:
                content = await http_response.read()
        else:
            content = http_response.body()
        http_request = request.http_request
        check(http_request.method, http_request.url, http_response.status_code, http_response.headers, content or b"")
        return response


def sdk_options(asynchronous: bool = False) -> dict[str, Any]:
    """Keyword arguments that install the validating policy in an SDK client."""
    return {"per_retry_policies": [AsyncSchemaPolicy() if asynchronous else SchemaPolicy()]}
