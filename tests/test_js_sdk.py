"""The official JavaScript SDK (@azure/communication-phone-numbers) against the session server.

`tests/js` pins the SDK in package.json and package-lock.json; `npm ci` installs it once per
lock (a stamp in node_modules records the lock it installed) and `node lifecycle.mjs` runs the
catalog, search -> purchase -> get -> list -> update capabilities -> release, operator
information, and browse and reservations, over HTTPS with the development CA trusted through
NODE_EXTRA_CA_CERTS. Without Node.js and npm the test skips, saying why, except under CI
(the CI environment variable set), where it fails.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.locks import exclusive
from tests.support.server import ServerProcess

JS = Path(__file__).parent / "js"
STAMP = JS / "node_modules" / ".numberpool-lock-sha256"
RESERVATIONS = Path(__file__).parents[1] / "src" / "numberpool" / "api" / "routes" / "reservations.py"


def _missing_tools() -> str | None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not found on PATH" if missing else None


@pytest.fixture(scope="session")
def js_sdk() -> Path:
    """tests/js with its node_modules installed exactly as the lock file says."""
    reason = _missing_tools()
    if reason:
        message = f"the JavaScript SDK test needs Node.js 20+ and npm: {reason}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        print(f"\nSKIPPED: {message}")
        pytest.skip(message)
    lock = hashlib.sha256((JS / "package-lock.json").read_bytes()).hexdigest()
    with exclusive(JS / ".npm-ci.lock"):  # two xdist workers may need it at once (this test, test_entra)
        if not (STAMP.is_file() and STAMP.read_text().strip() == lock):
            installed = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=JS, capture_output=True, text=True, timeout=600,
            )
            assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"
            STAMP.write_text(lock + "\n")
    return JS


def test_js_sdk_lifecycle(js_sdk: Path, server: ServerProcess) -> None:
    args = ["node", "lifecycle.mjs"]
    if RESERVATIONS.is_file():
        args.append("--reservations")
    env = {**os.environ, "NUMBERPOOL_CONNECTION_STRING": server.connection_string, "NODE_EXTRA_CA_CERTS": str(server.ca)}
    run = subprocess.run(args, cwd=js_sdk, env=env, capture_output=True, text=True, timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    steps = [line for line in run.stdout.splitlines() if line.startswith("ok ")]
    assert re.search(rf"^js-sdk: {len(steps)} steps passed$", run.stdout, re.MULTILINE), output
    expected = ["countries", "offerings", "toll-free area codes", "localities", "mobile area codes", "search",
                "purchase", "get", "list", "update capabilities", "release", "operator information"]
    if RESERVATIONS.is_file():
        expected += ["browse", "reservation create", "reservation add", "reservation remove", "reservation get",
                     "reservation list", "reservation delete", "reservation purchase", "release"]
    assert [line[3:].split(":")[0] for line in steps] == expected, output
