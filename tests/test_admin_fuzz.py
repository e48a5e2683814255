"""Schema fuzzing of the admin API: schemathesis drives the OpenAPI document the code generates
against a real server per engine, with the admin token.

Every generated request (valid and invalid) must get an answer the document declares, with a
conforming body and the ACS error shape for errors; no 5xx, and no traceback in the server log.
Half of the cases that name a resource name one that exists, so the handlers behind the 404s are
reached too. `make test` runs NUMBERPOOL_FUZZ_EXAMPLES (default 8) examples per operation;
`make fuzz` runs more.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis.checks import CheckContext
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import server_data_dir
from tests.support.admin import ADMIN_TOKEN, DOCUMENT, admin_client
from tests.support.server import ServerProcess

EXAMPLES = int(os.environ.get("NUMBERPOOL_FUZZ_EXAMPLES", "8"))
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
REAL_IDS = ("devresource", "fuzz-a", "fuzz-b")
cases_run: Counter[str] = Counter()
FREE_FORM = {"Inventory_AddRange", "InventoryImports_Start", "Catalog_Import"}
"""Operations whose schema-valid input may still be refused with a 400: a file body (CSV, TOML) is any
string to the schema, and a range's two numbers may lie in different countries or the wrong order."""


@schemathesis.check
def acs_error_shape(ctx: CheckContext, response: schemathesis.Response, case: schemathesis.Case) -> bool | None:
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert isinstance(body["error"].get("code"), str) and isinstance(body["error"].get("message"), str), body
    return None


schemathesis.serializer.alias("application/toml", "text/plain")  # a catalog file: any string, as text


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                development_ca: Any) -> Iterator[ServerProcess]:
    process = ServerProcess(
        server_data_dir(tmp_path_factory, development_ca, f"numberpool-admin-fuzz-{request.param}"),
        "--inventory-size", "5", "--admin-token", ADMIN_TOKEN, engine=request.param,
    ).start()
    yield process
    process.stop()
    tracebacks = [line for line in process.output if "Traceback" in line or " ERROR " in line]
    assert not tracebacks, "\n".join(process.output[-200:])


@SCHEMA.auth()
class AdminToken:
    """The admin token on every case, known to schemathesis as the document's bearer security."""

    def get(self, case: schemathesis.Case, ctx: Any) -> str:
        return ADMIN_TOKEN

    def set(self, case: schemathesis.Case, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture(scope="module")
def session(fuzz_server: ServerProcess) -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.verify = str(fuzz_server.ca)
        yield http


def _restore_real_ids(server: ServerProcess) -> None:
    """Fuzzing deletes resources; put back those the substituted cases name."""
    with admin_client(server) as admin:
        for resource in REAL_IDS[1:]:
            admin.post("/resources", json={"id": resource})


@SCHEMA.parametrize()
@hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None,
                     suppress_health_check=list(hypothesis.HealthCheck), print_blob=True)
def test_fuzz_admin_api(case: schemathesis.Case, fuzz_server: ServerProcess, session: requests.Session) -> None:
    operation_id = case.operation.definition.raw["operationId"]
    turn = cases_run[operation_id]
    cases_run[operation_id] += 1
    if turn % 2 == 0 and case.path_parameters and "id" in case.path_parameters:
        _restore_real_ids(fuzz_server)
        case.path_parameters = {**case.path_parameters, "id": REAL_IDS[turn // 2 % len(REAL_IDS)]}
    response = case.call(base_url=fuzz_server.endpoint, session=session, timeout=30)
    excluded = [positive_data_acceptance] if operation_id in FREE_FORM else []
    case.validate_response(response, additional_checks=[acs_error_shape], excluded_checks=excluded)


def test_every_admin_operation_is_fuzzed() -> None:
    if not cases_run:
        pytest.skip("run with the fuzz test")
    declared = {op["operationId"] for item in DOCUMENT["paths"].values() for op in item.values()}
    assert declared <= set(cases_run), sorted(declared - set(cases_run))
