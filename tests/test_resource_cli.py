"""`numberpool resource ...` on both engines, run while a server serves the same database:
the server honours each change; bad input gets one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import server_data_dir, signed_client
from tests.support import postgres
from tests.support.acs import NEWEST, poll, purchase, search, v
from tests.support.server import TEST_KEYS_SECRET, ServerProcess


class Target:
    """A running server and the command-line flags that reach its database."""

    def __init__(self, server: ServerProcess, flags: list[str], env: dict[str, str]) -> None:
        self.server, self.flags, self.env = server, flags, env

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in {**os.environ, **self.env, **(env or {})}.items() if v}
        return subprocess.run([sys.executable, "-m", "numberpool", "resource", *args, *self.flags],
                              capture_output=True, text=True, timeout=60, env=environment)

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        assert not done.stderr
        return done.stdout


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, development_ca: Any) -> Iterator[Target]:
    data_dir = server_data_dir(tmp_path_factory, development_ca, f"resource-cli-{request.param}")
    if request.param == "sqlite":
        # The server's own data directory, and the keys secret file it created there on first start.
        server = ServerProcess(data_dir, "--inventory-size", "5", tls=False, env={"NUMBERPOOL_KEYS_SECRET": None}).start()
        yield Target(server, ["--data-dir", str(data_dir)], {"NUMBERPOOL_KEYS_SECRET": ""})
        server.stop()
        return
    database = postgres.create_database()
    server = ServerProcess(data_dir, "--inventory-size", "5", "--database", database, tls=False).start()
    try:
        yield Target(server, ["--database", database], {"NUMBERPOOL_KEYS_SECRET": TEST_KEYS_SECRET})
    finally:
        server.stop()
        postgres.drop_database(database)


def status(server: ServerProcess, key: str) -> int:
    with signed_client(server, key) as client:
        return client.get("/phoneNumbers", params=v(NEWEST)).status_code


def within_5_s(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "the server did not see the change within 5 s"
        time.sleep(0.1)


def field(output: str, name: str) -> str:
    match = re.search(rf"^{re.escape(name)}:\s+(\S+)$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


def test_create_list_show_rotate_delete(target: Target) -> None:
    created = target.ok("create", "contoso", "--endpoint", target.server.endpoint + "/")
    primary, secondary = field(created, "primary key"), field(created, "secondary key")
    assert field(created, "connection string") == f"endpoint={target.server.endpoint}/;accesskey={primary}"
    within_5_s(lambda: status(target.server, primary) == 200 and status(target.server, secondary) == 200)

    listed = target.ok("list")
    assert re.search(r"^contoso\s+0\s+primary,secondary\s+no\s", listed, re.MULTILINE), listed
    assert re.search(r"^devresource\s+0\s+primary\s+yes\s", listed, re.MULTILINE), listed
    assert primary not in listed

    shown = target.ok("show", "contoso")
    assert field(shown, "owned numbers") == "0" and field(shown, "last activity") == "never"
    assert primary not in shown and secondary not in shown

    rotated = target.ok("rotate-key", "contoso", "--key", "primary")
    new = rotated.splitlines()[1]
    assert "the secondary key keeps working" in rotated and new not in (primary, secondary)
    within_5_s(lambda: status(target.server, primary) == 401)
    assert status(target.server, new) == 200 and status(target.server, secondary) == 200

    assert target.ok("delete", "contoso").strip() == "resource contoso deleted; 0 number(s) released"
    within_5_s(lambda: status(target.server, new) == 401 and status(target.server, secondary) == 401)
    assert "contoso" not in target.ok("list")


def test_delete_is_refused_while_the_resource_owns_numbers(target: Target) -> None:
    key = field(target.ok("create", "buyer"), "primary key")
    within_5_s(lambda: status(target.server, key) == 200)
    with signed_client(target.server, key) as tenant:
        search_id, numbers = search(tenant, NEWEST, quantity=2)
        assert poll(tenant, purchase(tenant, NEWEST, search_id).headers["Operation-Location"], NEWEST)[-1].json()[
            "status"] == "succeeded"
    shown = target.ok("show", "buyer")
    assert field(shown, "owned numbers") == "2" and field(shown, "last activity") != "never"

    refused = target.run("delete", "buyer")
    assert refused.returncode == 1 and not refused.stdout
    assert refused.stderr.strip() == ("numberpool resource: error: Resource 'buyer' owns 2 phone number(s); release them"
                                      " first, or delete with releaseNumbers (--release-numbers).")
    assert status(target.server, key) == 200

    assert target.ok("delete", "buyer", "--release-numbers").strip() == "resource buyer deleted; 2 number(s) released"
    within_5_s(lambda: status(target.server, key) == 401)
    with signed_client(target.server) as dev:
        for number in numbers:
            assert dev.get(f"/phoneNumbers/{number}", params=v(NEWEST)).status_code == 404


def test_json_output_is_the_admin_api_shape(target: Target) -> None:
    created = json.loads(target.ok("create", "json-shaped", "--json"))
    assert set(created) == {"id", "primaryKey", "secondaryKey", "connectionString"}
    shown = json.loads(target.ok("show", "json-shaped", "--json"))
    assert shown["id"] == "json-shaped" and shown["ownedNumbers"] == 0 and "primaryKey" not in shown
    assert "json-shaped" in {r["id"] for r in json.loads(target.ok("list", "--json"))["value"]}
    target.ok("delete", "json-shaped")


def test_a_resource_id_is_taken_once(target: Target) -> None:
    target.ok("create", "once")
    again = target.run("create", "once")
    assert again.returncode == 1 and again.stderr.strip() == "numberpool resource: error: A resource 'once' already exists."
    target.ok("delete", "once")


@pytest.mark.parametrize(("args", "env", "exit_code", "says"), [
    (["create", "bad id"], {}, 1, "A resource id is 1 to 63 letters"),
    (["create", "x" * 64], {}, 1, "A resource id is 1 to 63 letters"),
    (["show", "nobody"], {}, 1, "No resource 'nobody' exists."),
    (["delete", "nobody"], {}, 1, "No resource 'nobody' exists."),
    (["rotate-key", "nobody", "--key", "primary"], {}, 1, "No resource 'nobody' exists."),
    (["rotate-key", "devresource", "--key", "tertiary"], {}, 2, "invalid choice: 'tertiary'"),
    (["rotate-key", "devresource"], {}, 2, "the following arguments are required: --key"),
    (["create"], {}, 2, "the following arguments are required: id"),
    (["create", "stranger"], {"NUMBERPOOL_KEYS_SECRET": "c3RyYW5nZXItc2VjcmV0LW9mLTMyLWJ5dGVzLWxvbmc="}, 1,
     "the keys secret is not the one this database's access keys were sealed with"),
    (["list"], {"NUMBERPOOL_KEYS_SECRET": "not base64!"}, 1, "NUMBERPOOL_KEYS_SECRET: the keys secret is not valid base64"),
    (["list"], {"NUMBERPOOL_KEYS_SECRET": "c2hvcnQ="}, 1, "must be 32 bytes"),
])
def test_bad_input_gets_one_line(target: Target, args: list[str], env: dict[str, str], exit_code: int, says: str) -> None:
    done = target.run(*args, env=env)
    assert done.returncode == exit_code, (done.stdout, done.stderr)
    assert says in done.stderr and "Traceback" not in done.stderr
    if exit_code == 1:
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("numberpool resource: error: ")


@pytest.mark.parametrize("flags", [
    ["--data-dir", "/nonexistent/numberpool"],
    ["--database", "memory"],
    ["--database", "postgresql://postgres@127.0.0.1:1/nothing"],
    ["--database", "mysql://somewhere/db"],
    ["--database", "{text_file}"],
    ["--keys-secret-file", "/nonexistent/keys.secret"],
])
def test_unusable_databases_and_secrets_get_one_line(tmp_path: Path, flags: list[str]) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database\n" * 100)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    flags = [flag.replace("{text_file}", str(text_file)) for flag in flags]
    if "--data-dir" not in flags:
        flags += ["--data-dir", str(data_dir)]
    done = subprocess.run([sys.executable, "-m", "numberpool", "resource", "list", *flags], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "NUMBERPOOL_KEYS_SECRET": ""})
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.startswith("numberpool resource: error: ") and len(done.stderr.strip().splitlines()) == 1, done.stderr
