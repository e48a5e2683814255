"""Schema fuzzing: schemathesis drives the official OpenAPI files against a real server process.

Every operation of api-versions 2022-12-01 and 2025-06-01 gets generated requests (valid and
invalid: schemathesis' examples, coverage and fuzzing phases), each signed with HMAC-SHA256 exactly
as `tests/support/hmac_auth.py` signs (path and query as sent, host, content hash), against a real
`numberpool serve` on each engine. About half of the cases that name a search, an operation, a
phone number or a country name a real one (this resource's, or one the catalog sells in), so the
handlers behind the 404s and 400s are reached too.

Checks on every response (schemathesis' defaults plus one of ours): no 5xx; the status code,
Content-Type, declared headers and body conform to the official schema; a schema-violating request
is rejected; an undeclared method gets a 405 whose Allow header lists the declared ones; every
error (4xx) is in the ACS shape `{"error": {"code", "message"}}`; and afterwards the server log
holds no traceback.

`make test` runs a bounded number of examples per operation (NUMBERPOOL_FUZZ_EXAMPLES, default 8);
`make fuzz` runs the same tests with more (NUMBERPOOL_FUZZ_EXAMPLES, default 200 there).

Where the official schema is wrong against the recordings (shared/reference/acs-recordings), the
recordings win and the check is excluded for that operation only, in `SPEC_IS_WRONG` below.
"""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis.checks import CheckContext, CheckFunction
from schemathesis.specs.openapi import checks as openapi_checks

from numberpool.core.resources import DEV_ACCESS_KEY
from tests.conftest import server_data_dir, signed_client
from tests.support.reference import SPEC_ROOT, require_reference
from tests.support.acs import bought, start_search
from tests.support.hmac_auth import sign_headers
from tests.support.server import ServerProcess
from tests.support.validation import NULLABLE

VERSIONS = ("2022-12-01", "2025-06-01")
EXAMPLES = int(os.environ.get("NUMBERPOOL_FUZZ_EXAMPLES", "8"))
COMMON_REF = "../../../Common/stable/2021-03-07/common.json#/definitions/"

# Official-schema errors, by operationId: the check the recordings contradict is excluded there.
SPEC_IS_WRONG: dict[str, list[CheckFunction]] = {
    # The spec declares a 202 body of PhoneNumberSearchResult; the service answers 202 with no body
    # at all (Content-Length: 0, no Content-Type) and the result is read from Location
    # (py_test_purchase_phone_numbers.json).
    "PhoneNumbers_SearchAvailablePhoneNumbers": [
        openapi_checks.response_schema_conformance,
        openapi_checks.content_type_conformance,
    ],
    # The spec declares a 202 body of PurchasedPhoneNumber; the service answers
    # {"capabilitiesUpdateId": "..."} (py_test_update_phone_number_capabilities.json).
    "PhoneNumbers_UpdateCapabilities": [openapi_checks.response_schema_conformance],
    # The spec says every response is application/json; the service answers 202 to a purchase and a
    # release with no body and no Content-Type (Content-Length: 0 in py_test_purchase_phone_numbers.json).
    "PhoneNumbers_PurchasePhoneNumbers": [openapi_checks.content_type_conformance],
    "PhoneNumbers_ReleasePhoneNumber": [openapi_checks.content_type_conformance],
}
# Applies to every operation: the spec types its inputs loosely (countryCode, searchId, phoneNumber
# and the like are any string; every capability combination is allowed) and the service rejects
# schema-valid values with 400 on meaning, as ACS does: an unknown country code
# (py_error_invalid_country.json), a plan nobody sells (js_error_invalid_search_person_tollfree.json),
# a malformed phone number (py_error_update_caps_invalid_number.json). So "schema-valid data is
# accepted" is not a property of the service; every other check still runs on those cases.
EVERYWHERE_EXCLUDED: list[CheckFunction] = [openapi_checks.positive_data_acceptance]
# PhoneNumberOperation.resourceLocation is `type: string` in the spec but the service sends null for
# purchases and releases (py_test_purchase_phone_numbers.json): the schema is corrected to allow null
# (narrower than excluding the whole body check of GET /phoneNumbers/operations/{operationId}).
# Likewise the catalog lists and the reservations list end with `"nextLink": null`: the same
# corrections as every other test's (tests/support/validation.py NULLABLE).
# Not a spec error but a service convention (api/parse.py): in a request body, an optional member
# given as null is read as absent, so generated clients that serialise unset fields as null work. In
# a merge patch (RFC 7396) null asks to remove a member; the members these patches carry cannot be
# removed (a number always has both capabilities), so there too null changes nothing. The harness
# therefore lets every optional property of a request-body definition be null as well; a required
# one still may not, and response bodies keep their schema unchanged.

COUNTRIES = ("US", "CA", "GB", "FR", "IE")  # the demo catalog's
cases_run: Counter[str] = Counter()
statuses_seen: Counter[tuple[str, int]] = Counter()


def _inline_common(node: Any) -> Any:
    """Point the `$ref`s into common.json at copies of its definitions inside this document."""
    if isinstance(node, dict):
        return {
            key: ("#/definitions/" + value.removeprefix(COMMON_REF)
                  if key == "$ref" and isinstance(value, str) and value.startswith(COMMON_REF) else _inline_common(value))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_inline_common(item) for item in node]
    return node


def load_spec(version: str) -> dict[str, Any]:
    """The official file of `version`, made self-contained, as schemathesis will read it."""
    doc = json.loads((SPEC_ROOT / "stable" / version / "phonenumbers.json").read_text(encoding="utf-8"))
    common = json.loads((SPEC_ROOT.parent / "Common" / "stable" / "2021-03-07" / "common.json").read_text("utf-8"))
    doc = _inline_common(copy.deepcopy(doc))
    for name, definition in common["definitions"].items():
        existing = doc["definitions"].setdefault(name, definition)
        assert existing == definition, f"{name} differs between phonenumbers.json and common.json"
    # A client sends the api-version of the file it was generated from; other values only exercise
    # version negotiation, which tests/test_http_errors.py covers by hand.
    doc["parameters"]["ApiVersionParameter"]["enum"] = [version]
    for name, props in NULLABLE.items():
        for prop in props:
            if name in doc["definitions"]:
                _allow_null(doc["definitions"][name], prop)
    _nullable_request_members(doc)
    return doc


def _allow_null(definition: dict[str, Any], prop: str) -> None:
    definition["properties"][prop] = {"anyOf": [definition["properties"][prop], {"type": "null"}]}


def _nullable_request_members(doc: dict[str, Any]) -> None:
    """Request bodies get their own copies of the definitions they use, whose optional members may be null."""
    definitions = doc["definitions"]
    copies: dict[str, str] = {}

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/definitions/"):
                name = ref.removeprefix("#/definitions/")
                if name not in copies:
                    copies[name] = f"{name}AsSent"
                    definition = copy.deepcopy(definitions[name])
                    for prop in definition.get("properties", {}):
                        if prop not in definition.get("required", []):
                            _allow_null(definition, prop)
                    definitions[copies[name]] = rewrite(definition)
                return {**node, "$ref": f"#/definitions/{copies[name]}"}
            return {key: rewrite(value) for key, value in node.items()}
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    bodies = [p for item in doc["paths"].values() for method, op in item.items() if method != "parameters"
              for p in op.get("parameters", []) if p.get("in") == "body"]
    bodies += [p for p in doc.get("parameters", {}).values() if p.get("in") == "body"]
    for parameter in bodies:
        parameter["schema"] = rewrite(parameter["schema"])


require_reference(module=True)  # the cases are generated from the official files, at import
SCHEMAS = {version: schemathesis.openapi.from_dict(load_spec(version)) for version in VERSIONS}


def acs_error_shape(ctx: CheckContext, response: schemathesis.Response, case: schemathesis.Case) -> bool | None:
    """Every 4xx/5xx carries `{"error": {"code": str, "message": str, ...}}` as JSON."""
    if response.status_code < 400:
        return None
    media_type = response.headers.get("content-type", [""])[0].split(";", 1)[0].strip()
    assert media_type == "application/json", f"error with Content-Type {media_type!r}"
    body = response.json()
    assert isinstance(body, dict) and list(body) == ["error"], f"not the ACS error shape: {body!r}"
    error = body["error"]
    assert isinstance(error, dict), f"not the ACS error shape: {body!r}"
    assert isinstance(error.get("code"), str) and error["code"], f"error without a code: {body!r}"
    assert isinstance(error.get("message"), str) and error["message"], f"error without a message: {body!r}"
    return True


class HmacSigner(requests.auth.AuthBase):
    """Signs the prepared request, so the signature covers exactly what goes on the wire."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        host = requests.utils.urlparse(request.url).netloc
        request.headers.update(sign_headers(request.method or "GET", request.path_url, host, body, self.key))
        return request


class RealIds:
    """Searches, operations and numbers that exist and belong to the development resource."""

    def __init__(self, client: Any) -> None:
        self.client = client
        started = start_search(client, "2025-06-01", quantity=1)
        self.search_ids = [started.headers["search-id"]]
        self.operation_ids = [started.headers["operation-id"]]
        self._bought = bought(client, quantity=4)
        self.numbers = self._bought.__enter__()

    def close(self) -> None:
        self._bought.__exit__(None, None, None)

    def substitute(self, case: schemathesis.Case, turn: int) -> None:
        """On every other case, put a real id (or a country the catalog sells in) where the operation takes one."""
        if turn % 2:
            return
        if case.operation.definition.raw.get("operationId") == "PhoneNumbers_PurchasePhoneNumbers" and isinstance(
            case.body, dict
        ):
            case.body = {**case.body, "searchId": self.search_ids[0]}
        if not case.path_parameters:
            return
        params = dict(case.path_parameters)
        if "searchId" in params:
            params["searchId"] = self.search_ids[turn // 2 % len(self.search_ids)]
        if "operationId" in params:
            params["operationId"] = self.operation_ids[turn // 2 % len(self.operation_ids)]
        if "countryCode" in params:
            params["countryCode"] = COUNTRIES[turn // 2 % len(COUNTRIES)]
        if "phoneNumber" in params:
            params["phoneNumber"] = self.numbers[turn // 2 % len(self.numbers)]
        case.path_parameters = params


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, development_ca: Any
) -> Iterator[ServerProcess]:
    """A server of its own per engine: fuzzing releases and changes numbers that other tests may hold."""
    process = ServerProcess(
        server_data_dir(tmp_path_factory, development_ca, f"numberpool-fuzz-{request.param}"),
        "--inventory-size", "50",
        engine=request.param,
    ).start()
    yield process
    process.stop()
    tracebacks = [line for line in process.output
                  if "Traceback" in line or " ERROR " in line or '"level": "error"' in line]
    assert not tracebacks, "\n".join(process.output[-200:])


@pytest.fixture(scope="module")
def fuzz(fuzz_server: ServerProcess) -> Iterator[tuple[requests.Session, RealIds]]:
    session = requests.Session()
    session.auth = HmacSigner(DEV_ACCESS_KEY)
    session.verify = str(fuzz_server.ca)
    with signed_client(fuzz_server) as client:
        real = RealIds(client)
        try:
            yield session, real
        finally:
            real.close()
    session.close()


def _run_case(version: str, case: schemathesis.Case, server: ServerProcess,
              session: requests.Session, real: RealIds) -> None:
    operation_id = case.operation.definition.raw.get("operationId", case.operation.label)
    turn = cases_run[f"{version} {operation_id}"]
    cases_run[f"{version} {operation_id}"] += 1
    real.substitute(case, turn)
    excluded = [*EVERYWHERE_EXCLUDED, *SPEC_IS_WRONG.get(operation_id, [])]
    response = case.call(base_url=server.endpoint, session=session, timeout=30)
    statuses_seen[(version, response.status_code)] += 1
    if response.status_code == 204:
        # No Content has no body, so no media type (RFC 9110 15.3.5), whatever `produces` says.
        excluded.append(openapi_checks.content_type_conformance)
    case.validate_response(response, additional_checks=[acs_error_shape], excluded_checks=excluded)


_SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the work tree
    suppress_health_check=list(hypothesis.HealthCheck),
    print_blob=True,
)


@SCHEMAS["2022-12-01"].parametrize()
@_SETTINGS
def test_fuzz_2022_12_01(case: schemathesis.Case, fuzz_server: ServerProcess, fuzz: Any) -> None:
    _run_case("2022-12-01", case, fuzz_server, *fuzz)


@SCHEMAS["2025-06-01"].parametrize()
@_SETTINGS
def test_fuzz_2025_06_01(case: schemathesis.Case, fuzz_server: ServerProcess, fuzz: Any) -> None:
    _run_case("2025-06-01", case, fuzz_server, *fuzz)


def test_every_operation_of_both_versions_is_fuzzed() -> None:
    """The parametrisation reached every operation the files declare (runs after the fuzz tests)."""
    if not cases_run:
        pytest.skip("run with the fuzz tests")
    for version, schema in SCHEMAS.items():
        declared = {
            op["operationId"]
            for item in schema.raw_schema["paths"].values()
            for method, op in item.items()
            if method != "parameters"
        }
        fuzzed = {key.split(" ", 1)[1] for key in cases_run if key.startswith(version)}
        assert declared <= fuzzed, f"{version}: not fuzzed: {sorted(declared - fuzzed)}"
    total = {version: sum(n for key, n in cases_run.items() if key.startswith(version)) for version in VERSIONS}
    print(f"\nfuzz cases run: {json.dumps(total)}; statuses: "
          f"{json.dumps({f'{v} {s}': n for (v, s), n in sorted(statuses_seen.items())})}")

