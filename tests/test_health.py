"""`/livez`, `/readyz` and `numberpool healthcheck`, on both engines."""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
import time

import httpx
import pytest

from numberpool.api.health import MEDIA_TYPE, Readiness
from numberpool.core.context import Context
from numberpool.store.migrations import migrations
from tests.support.server import ServerProcess, free_port
from tests.support.stores import fetch

CHECKS = {"database", "migrations", "sweep"}


def client(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.endpoint, verify=ssl.create_default_context(cafile=str(server.ca)))


def database_of(server: ServerProcess) -> str:
    return server._own_database or str(server.data_dir / "numberpool.db")


def healthcheck(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # Without the test session's SSL_CERT_FILE (the development CA): trusted only as the command decides.
    environ = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")}
    return subprocess.run([sys.executable, "-m", "numberpool", "healthcheck", *args], capture_output=True, text=True,
                          timeout=60, env={**environ, **(env or {})})


def test_livez_is_always_200_and_needs_no_authentication(server):
    with client(server) as http:
        response = http.get("/livez")
    assert response.status_code == 200
    assert response.headers["content-type"] == MEDIA_TYPE
    assert response.json() == {"status": "pass"}


def test_readyz_passes_and_verbose_lists_each_check(server):
    with client(server) as http:
        brief = http.get("/readyz")
        verbose = http.get("/readyz", params={"verbose": ""})
    assert brief.status_code == 200 and brief.headers["content-type"] == MEDIA_TYPE
    assert brief.json() == {"status": "pass", "checks": {}}
    body = verbose.json()
    assert body["status"] == "pass" and set(body["checks"]) == CHECKS
    for name, (check,) in body["checks"].items():
        assert check["status"] == "pass", (name, check)
    # no data leaks to an unauthenticated caller: not the database, not the data directory
    text = verbose.text
    assert "postgres" not in text and "sqlite" not in text and str(server.data_dir) not in text


def test_readyz_fails_while_the_schema_is_behind_and_healthcheck_says_so(make_server):
    process = make_server("--inventory-size", "0")
    database = database_of(process)
    engine = "postgres" if database.startswith("postgresql") else "sqlite"
    newest = max(m.version for m in migrations(engine))
    name = asyncio.run(fetch(database, f"SELECT name FROM schema_migrations WHERE version = {newest}"))[0][0]
    args = ("--port", str(process.port), "--data-dir", str(process.data_dir))
    assert healthcheck(*args).returncode == 0
    asyncio.run(fetch(database, f"DELETE FROM schema_migrations WHERE version = {newest}"))
    try:
        with client(process) as http:
            response = http.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "fail" and list(body["checks"]) == ["migrations"]
        assert body["checks"]["migrations"][0]["observedValue"] == 1
        failed = healthcheck(*args)
        assert failed.returncode == 1 and "503" in failed.stderr and "migrations" in failed.stderr
        with client(process) as http:
            assert http.get("/livez").status_code == 200  # liveness never checks dependencies
    finally:
        asyncio.run(fetch(database, f"INSERT INTO schema_migrations (version, name) VALUES ({newest}, '{name}')"))
    with client(process) as http:
        assert http.get("/readyz").status_code == 200


def test_healthcheck_command(server):
    base = ("--data-dir", str(server.data_dir))
    ok = healthcheck("--port", str(server.port), *base)
    assert ok.returncode == 0, ok.stderr
    assert "200 pass" in ok.stdout
    assert healthcheck("--url", f"{server.endpoint}/readyz", "--cafile", str(server.ca)).returncode == 0
    assert healthcheck(*base, env={"NUMBERPOOL_PORT": str(server.port)}).returncode == 0
    untrusted = healthcheck("--port", str(server.port), "--data-dir", "/nonexistent")
    assert untrusted.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
    assert healthcheck("--port", str(server.port), "--data-dir", "/nonexistent", "--insecure").returncode == 0
    closed = healthcheck("--port", str(free_port()), *base)
    assert closed.returncode == 1 and "refused" in closed.stderr.lower()
    assert "Traceback" not in closed.stderr + untrusted.stderr


async def test_readiness_fails_when_the_sweep_stalls_or_the_database_is_gone(engine, new_url):
    from numberpool.store import open_store

    store = await open_store(await new_url(engine))
    readiness = Readiness(Context(store=store), sweep_seconds=1)
    assert {name: c["status"] for name, c in (await readiness.checks()).items()} == dict.fromkeys(CHECKS, "pass")
    readiness.last_sweep = time.monotonic() - 31
    assert (await readiness.checks())["sweep"]["status"] == "fail"
    readiness.sweep_succeeded()
    assert (await readiness.checks())["sweep"]["status"] == "pass"
    await store.close()
    checks = await readiness.checks()
    assert checks["database"]["status"] == "fail" and checks["migrations"]["status"] == "fail"


@pytest.mark.parametrize("value", ["x", "0"])
def test_healthcheck_refuses_a_bad_port_value(value):
    result = healthcheck(env={"NUMBERPOOL_PORT": value}) if value == "x" else healthcheck("--port", "0")
    assert result.returncode != 0
    if value == "x":
        assert "NUMBERPOOL_PORT: invalid int value 'x'" in result.stderr
