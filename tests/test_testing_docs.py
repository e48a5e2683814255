"""docs/testing.md runs as written: the pytest example through the installed plugin (both engines,
and with --numberpool-binary), the NumberpoolServer script, and the Node.js example through the
official JavaScript SDK. Also: the plugin, loaded into every pytest run, imports nothing heavy.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from numberpool.testing import NumberpoolServer
from tests.support import postgres
from tests.test_js_sdk import js_sdk  # noqa: F401 (the fixture: tests/js with its packages installed)

DOC = Path(__file__).resolve().parents[1] / "docs" / "testing.md"
README = Path(__file__).resolve().parents[1] / "README.md"


def _example(name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- example: {name} -->\n```\w+\n(.*?)```", text, re.S)
    assert found, f"docs/testing.md has no example {name!r}"
    return found.group(1)


def _python_block(after: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"{re.escape(after)}.*?```python\n(.*?)```", text, re.S)
    assert found, after
    return found.group(1)


def _clean_env() -> dict[str, str]:
    """This process's environment without the CA trust other fixtures set: the plugin must do its own."""
    return {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE",
                                                             "NODE_EXTRA_CA_CERTS", "PYTEST_ADDOPTS")}


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_the_pytest_example_runs_through_the_plugin(engine: str, tmp_path: Path) -> None:
    (tmp_path / "test_numbers.py").write_text(_example("pytest"))
    options: list[str] = []
    database = None
    if engine == "postgres":
        database = postgres.create_database()
        options = ["--numberpool-database", database, "--numberpool-binary", f"{sys.executable} -m numberpool"]
    try:
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options,
                              "test_numbers.py"], cwd=tmp_path, env=_clean_env(), capture_output=True, text=True,
                             timeout=600)
    finally:
        if database:
            postgres.drop_database(database)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"\b4 passed\b", run.stdout), run.stdout


def test_a_missing_binary_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text("def test_one(numberpool):\n    pass\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--numberpool-binary",
                          str(tmp_path / "nowhere"), "test_one.py"], cwd=tmp_path, env=_clean_env(),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "--numberpool-binary" in run.stdout and "is not an executable file or command" in run.stdout


def test_the_script_example_runs() -> None:
    snippet = _python_block("`numberpool.testing.NumberpoolServer` is the same")
    run = subprocess.run([sys.executable, "-c", snippet], env=_clean_env(), capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_the_node_example_runs_through_the_javascript_sdk(js_sdk: Path) -> None:  # noqa: F811
    script = js_sdk / "docs-testing-example.mjs"
    script.write_text(_example("node"))
    try:
        with NumberpoolServer(inventory_size=20, trust=False) as server:
            env = {**_clean_env(), "NUMBERPOOL_CONNECTION_STRING": server.connection_string,
                   "NUMBERPOOL_ENDPOINT": server.endpoint, "NUMBERPOOL_ADMIN_TOKEN": server.admin_token,
                   "NODE_EXTRA_CA_CERTS": str(server.ca_path)}
            run = subprocess.run(["node", script.name], cwd=js_sdk, env=env, capture_output=True, text=True,
                                 timeout=300)
            rules = server.faults.list()
    finally:
        script.unlink()
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == "throttled 1 time(s), then found 1; purchase failed 1 time(s)", run.stdout
    assert [rule["hits"] for rule in rules] == [1, 1]


def test_the_plugin_imports_only_the_standard_library() -> None:
    code = ("import sys; before = set(sys.modules); import numberpool.testing.plugin; "
            "print('\\n'.join(sorted(set(sys.modules) - before)))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    loaded = run.stdout.split()
    ours = {name for name in loaded if name.split(".")[0] == "numberpool"}
    assert ours == {"numberpool", "numberpool.testing", "numberpool.testing.server", "numberpool.testing.plugin"}
    heavy = [name for name in loaded if name.split(".")[0] in ("azure", "starlette", "uvicorn", "asyncpg", "httpx",
                                                                 "phonenumbers", "trustme", "cryptography")]
    assert heavy == []


def test_the_plugin_is_registered_and_the_readme_links_the_guide() -> None:
    from importlib.metadata import entry_points

    assert [e.value for e in entry_points(group="pytest11") if e.name == "numberpool"] == ["numberpool.testing.plugin"]
    readme = README.read_text(encoding="utf-8")
    assert "docs/testing.md" in readme and "numberpool_server" in readme
