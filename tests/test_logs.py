"""Logs: JSON lines off a terminal with the request's fields, readable text on request, never a credential."""

from __future__ import annotations

import json
import ssl
import time

import httpx
import pytest

from numberpool.core.resources import DEV_ACCESS_KEY
from numberpool.server.logs import redact
from tests.conftest import OTHER_KEY, OTHER_RESOURCE
from tests.support.acs import NEWEST
from tests.support.hmac_auth import sign_headers
from tests.support.server import ServerProcess

ADMIN_TOKEN = "ops-test-admin-token-5f2b9c"
BEARER = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJlLW9mLWEtdGVzdA"
FIELDS = {"time", "level", "logger", "event", "request_id", "correlation_vector", "method", "route", "status",
          "duration_ms"}


def json_lines(process: ServerProcess) -> list[dict]:
    return [json.loads(line) for line in process.output if line.startswith("{")]


def access_line(process: ServerProcess, request_id: str) -> dict:
    """The request's access line; written just after its response, so it may take a moment to be read."""
    deadline = time.monotonic() + 10
    while not (found := [line for line in json_lines(process) if line.get("request_id") == request_id
                         and line["logger"] == "numberpool.access"]):
        assert time.monotonic() < deadline, process.output[-10:]
        time.sleep(0.05)
    assert len(found) == 1, found
    return found[0]


@pytest.fixture()
def logged(make_server) -> ServerProcess:
    return make_server("--inventory-size", "0", "--admin-token", ADMIN_TOKEN,
                       "--resource", f"{OTHER_RESOURCE}={OTHER_KEY}")


def _client(process: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=process.endpoint, verify=ssl.create_default_context(cafile=str(process.ca)))


def test_each_request_leaves_one_json_line_with_its_fields(logged):
    path = f"/availablePhoneNumbers/countries?api-version={NEWEST}"
    headers = sign_headers("GET", path, f"127.0.0.1:{logged.port}", b"", OTHER_KEY)
    with _client(logged) as client:
        ok = client.get(path, headers={**headers, "x-ms-client-request-id": "client-7"})
        missing = client.get(f"/phoneNumbers/+15550100001?api-version={NEWEST}",
                             headers=sign_headers("GET", f"/phoneNumbers/+15550100001?api-version={NEWEST}",
                                                  f"127.0.0.1:{logged.port}", b"", OTHER_KEY))
    assert ok.status_code == 200 and missing.status_code == 404
    line = access_line(logged, ok.headers["x-ms-request-id"])
    assert FIELDS <= set(line)
    assert line["level"] == "info" and line["logger"] == "numberpool.access"
    assert line["client_request_id"] == "client-7"
    assert line["correlation_vector"] == ok.headers["MS-CV"]
    assert line["route"] == "/availablePhoneNumbers/countries" and line["status"] == 200 and line["method"] == "GET"
    assert line["resource"] == OTHER_RESOURCE and line["duration_ms"] >= 0
    assert line["time"].endswith("Z")
    error = access_line(logged, missing.headers["x-ms-request-id"])
    assert error["route"] == "/phoneNumbers/{number}" and error["status"] == 404 and error["error_code"] == "NotFound"
    assert "+15550100001" not in json.dumps(error)  # the route template, never the raw path
    assert all(isinstance(line, dict) for line in json_lines(logged))
    assert any(line["logger"].startswith("uvicorn") for line in json_lines(logged))  # uvicorn's own, same pipeline


def test_no_key_signature_or_token_is_ever_logged(logged):
    path = f"/availablePhoneNumbers/countries?api-version={NEWEST}"
    signed = sign_headers("GET", path, f"127.0.0.1:{logged.port}", b"", OTHER_KEY)
    signature = signed["Authorization"].rsplit("Signature=", 1)[1]
    bad = sign_headers("GET", path, f"127.0.0.1:{logged.port}", b"", DEV_ACCESS_KEY, date="Mon, 01 Jan 2001 00:00:00 GMT")
    with _client(logged) as client:
        assert client.get(path, headers=signed).status_code == 200
        assert client.get(path, headers=bad).status_code == 401
        assert client.get(path, headers={"Authorization": f"Bearer {BEARER}"}).status_code == 401
        client.get("/_numberpool/admin/api/v1/resources", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        client.get("/_numberpool/admin/api/v1/resources", headers={"Authorization": "Bearer wrong-token"})
        client.get(f"/nothing?accesskey={OTHER_KEY}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    logged.stop()
    everything = "\n".join(logged.output)
    assert json_lines(logged), everything[-2000:]
    for secret in (OTHER_KEY, signature, bad["Authorization"].split("Signature=", 1)[1], ADMIN_TOKEN, BEARER, "wrong-token"):
        assert secret not in everything, secret
    # the development key is public and printed once in the ready line (stderr); never in a log line
    assert all(DEV_ACCESS_KEY not in line for line in logged.output if line.startswith("{"))


def test_text_format_is_readable(make_server):
    process = make_server("--inventory-size", "0", "--log-format", "text")
    with _client(process) as client:
        response = client.get("/livez", headers={"x-ms-client-request-id": "abc"})
    deadline = time.monotonic() + 10
    while not (lines := [line for line in process.output if response.headers["x-ms-request-id"] in line]):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    line = lines[0]
    assert " INFO " in line and "numberpool.access GET /livez 200" in line and "client_request_id=abc" in line
    assert not any(line.startswith("{") for line in process.output)


@pytest.mark.parametrize("text, secret", [
    ("endpoint=https://x/;accesskey=c2VjcmV0LWtleQ==", "c2VjcmV0LWtleQ=="),
    ("HMAC-SHA256 SignedHeaders=x-ms-date;host&Signature=abcDEF123+/=", "abcDEF123+/="),
    ("Authorization: Bearer some.jwt.token", "some.jwt.token"),
])
def test_anything_shaped_like_a_credential_is_masked(text, secret):
    assert secret not in redact(text) and "[redacted]" in redact(text)


@pytest.mark.parametrize("client_request_id, resource, error_code", [
    (None, None, None),
    ('quo"te\\back\u00e9\nline', "devresource", "NotFound"),
])
def test_the_access_line_is_what_the_json_formatter_makes_of_its_record(client_request_id, resource, error_code):
    import logging

    from numberpool.api.request_ids import request_ids
    from numberpool.server.logs import JsonFormatter, access_line_json

    ids = request_ids({"x-ms-client-request-id": client_request_id} if client_request_id else {})
    record = logging.LogRecord("numberpool.access", logging.INFO, __file__, 0, "%s %s %d",
                               ("POST", "/availablePhoneNumbers/countries/{country}/:search", 202), None)
    fields = {"access": True, "request_id": ids.request_id, "correlation_vector": ids.correlation_vector,
              "client_request_id": ids.client_request_id, "method": "POST",
              "route": "/availablePhoneNumbers/countries/{country}/:search", "status": 202,
              "duration_ms": 1.237, "resource": resource, "error_code": error_code}
    record.__dict__.update(fields)
    line = access_line_json("POST", fields["route"], 202, 1.237, ids, resource, error_code, record.created)
    assert line == JsonFormatter().format(record)
    assert json.loads(line).get("client_request_id") == client_request_id


PENDING_AT_SIGTERM = """
import asyncio, os, signal
from numberpool.api.observe import Observer
from numberpool.api.request_ids import request_ids
from numberpool.server.logs import configure_logging
from numberpool.server.run import _exit_after_shutdown

signal.signal(signal.SIGTERM, _exit_after_shutdown)  # as `serve` installs it
configure_logging("json", "info")

async def main():
    observer = Observer()
    for n in range(50):
        observer.finish("GET", "/livez", 200, 0.0, request_ids({"x-ms-client-request-id": f"line-{n}"}))
    os.kill(os.getpid(), signal.SIGTERM)  # in the same turn: the 50 lines are still pending
    await asyncio.sleep(5)

# not asyncio.run, whose teardown turns the loop once more: the loop never turns again after the signal
asyncio.new_event_loop().run_until_complete(main())
"""


def test_lines_pending_in_a_turn_are_written_when_sigterm_stops_the_process():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", PENDING_AT_SIGTERM], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["client_request_id"] for line in lines] == [f"line-{n}" for n in range(50)], done.stdout[-500:]
