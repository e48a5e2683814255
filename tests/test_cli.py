"""The command line: TLS modes, databases, persistence across restarts, flag errors."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import sys

import httpx
import trustme

from numberpool.core.resources import DEV_ACCESS_KEY
from tests.support.hmac_auth import HmacAuth
from tests.support.server import ServerProcess

COUNTRIES = "/availablePhoneNumbers/countries?api-version=2025-06-01"
SEARCH = "/availablePhoneNumbers/countries/US/:search?api-version=2025-06-01"
TOLL_FREE = {"phoneNumberType": "tollFree", "assignmentType": "application",
             "capabilities": {"calling": "inbound", "sms": "none"}, "quantity": 1}


def _client(server: ServerProcess, verify: ssl.SSLContext | bool = False) -> httpx.Client:
    return httpx.Client(base_url=server.endpoint, auth=HmacAuth(DEV_ACCESS_KEY), verify=verify, timeout=30)


def test_no_tls_serves_plain_http(tmp_path):
    server = ServerProcess(tmp_path, "--inventory-size", "5", "--database", "memory", tls=False).start()
    try:
        assert server.connection_string.startswith(f"endpoint=http://127.0.0.1:{server.port}/;accesskey=")
        with _client(server) as client:
            assert client.get(COUNTRIES).status_code == 200
        assert not (tmp_path / "tls").exists()
    finally:
        server.stop()


def test_memory_database_serves_the_seeded_inventory(tmp_path):
    """The demo inventory is seeded into the serving process's own in-memory database (it was once
    seeded into a throw-away connection, leaving an empty catalog)."""
    server = ServerProcess(tmp_path, "--inventory-size", "5", "--database", "memory", tls=False).start()
    try:
        with _client(server) as client:
            countries = client.get(COUNTRIES).json()["countries"]
            assert {c["countryCode"] for c in countries} >= {"US", "CA", "GB"}
    finally:
        server.stop()


def test_operator_certificate_is_used_instead_of_the_development_ca(tmp_path):
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    server = ServerProcess(tmp_path / "data", "--inventory-size", "5", "--cert", str(cert), "--key", str(key)).start()
    try:
        context = ssl.create_default_context()
        ca.configure_trust(context)
        with _client(server, context) as client:
            assert client.get(COUNTRIES).status_code == 200
        assert not (tmp_path / "data" / "tls").exists()
    finally:
        server.stop()


def test_development_ca_is_printed_and_kept_across_restarts(tmp_path):
    server = ServerProcess(tmp_path, "--inventory-size", "5").start()
    server.stop()
    first_ca = (tmp_path / "tls" / "ca.pem").read_bytes()
    assert any("REQUESTS_CA_BUNDLE=" in line and "NODE_EXTRA_CA_CERTS=" in line for line in server.output)
    again = ServerProcess(tmp_path, "--inventory-size", "5").start()
    try:
        assert (tmp_path / "tls" / "ca.pem").read_bytes() == first_ca
        with _client(again, ssl.create_default_context(cafile=str(again.ca))) as client:
            assert client.get(COUNTRIES).status_code == 200
    finally:
        again.stop()


def test_a_purchase_survives_a_restart_and_the_inventory_is_not_seeded_twice(tmp_path):
    server = ServerProcess(tmp_path, "--inventory-size", "5", tls=False).start()
    try:
        with _client(server) as client:
            search_id = client.post(SEARCH, json=TOLL_FREE).headers["search-id"]
            assert client.post("/availablePhoneNumbers/:purchase?api-version=2025-06-01",
                               json={"searchId": search_id}).status_code == 202
            bought = client.get("/phoneNumbers?api-version=2025-06-01").json()["phoneNumbers"]
    finally:
        server.stop()
    again = ServerProcess(tmp_path, "--inventory-size", "5", tls=False, port=server.port).start()
    try:
        assert not any("seeding" in line for line in again.output)
        with _client(again) as client:
            assert client.get("/phoneNumbers?api-version=2025-06-01").json()["phoneNumbers"] == bought
    finally:
        again.stop()


def _serve_fails(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "numberpool", "serve", *args],
                          capture_output=True, text=True, timeout=60)


def test_bad_flags_are_refused_with_a_clear_message(tmp_path):
    too_long = _serve_fails("--data-dir", str(tmp_path), "--hold-minutes", "16")
    assert too_long.returncode == 2 and "--hold-minutes must be more than 0 and at most 15" in too_long.stderr
    bad_key = _serve_fails("--data-dir", str(tmp_path), "--resource", "x=not base64!")
    assert bad_key.returncode == 2 and "not valid base64" in bad_key.stderr
    half_tls = _serve_fails("--data-dir", str(tmp_path), "--cert", "c.pem")
    assert half_tls.returncode == 2 and "--cert and --key go together" in half_tls.stderr
    bad_db = _serve_fails("--data-dir", str(tmp_path), "--database", "mysql://x")
    assert bad_db.returncode == 2 and "unsupported database URL" in bad_db.stderr
    bad_cache = _serve_fails("--data-dir", str(tmp_path), "--database", "postgresql://h/db?statement_cache_size=off")
    assert bad_cache.returncode == 2 and "statement_cache_size must be a whole number" in bad_cache.stderr
    assert "Traceback" not in bad_cache.stderr
    bad_timeout = _serve_fails("--data-dir", str(tmp_path), "--shutdown-timeout", "-1")
    assert bad_timeout.returncode == 2 and "--shutdown-timeout must be" in bad_timeout.stderr


def test_a_taken_port_is_reported_and_the_process_exits(tmp_path, server):
    shutil.copytree(server.data_dir / "tls", tmp_path / "tls")
    result = _serve_fails("--data-dir", str(tmp_path), "--port", str(server.port), "--inventory-size", "0")
    assert result.returncode != 0
    # uvicorn's error log goes through the service's log pipeline: a JSON line on stdout
    assert "address already in use" in result.stdout
    assert json.loads(next(line for line in result.stdout.splitlines() if "address already in use" in line))
    assert "numberpool: ready" not in result.stderr
