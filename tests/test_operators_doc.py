"""The shell blocks of docs/operators.md's "Resources and keys" and "Admin API" sections run
verbatim (only the data directory and the address replaced) against a real server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import server_data_dir
from tests.support.admin import ADMIN_TOKEN, DOCUMENT
from tests.support.server import ServerProcess

DOC = Path(__file__).resolve().parents[1] / "docs" / "operators.md"


def shell_blocks(heading: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


@pytest.fixture(scope="module")
def doc_server(tmp_path_factory: pytest.TempPathFactory, development_ca: Any) -> Iterator[ServerProcess]:
    process = ServerProcess(server_data_dir(tmp_path_factory, development_ca, "operators-doc"),
                            "--inventory-size", "5", "--admin-token", ADMIN_TOKEN,
                            env={"NUMBERPOOL_KEYS_SECRET": None}).start()
    yield process
    process.stop()


def run(script: str, cwd: Path | None = None, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "NUMBERPOOL_KEYS_SECRET"}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=300,
                          env={**environment, **env}, cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_the_resource_commands_run_as_written(doc_server: ServerProcess) -> None:
    (block,) = shell_blocks("Resources and keys")
    assert block.count("numberpool resource") == 5
    out = run(block.replace(".numberpool", str(doc_server.data_dir)))
    assert "resource contoso created; its keys are shown this once" in out
    assert re.search(r"^contoso\s+0\s+primary,secondary\s+no\s", out, re.M), out
    assert re.search(r"^owned numbers:\s+0$", out, re.M) and re.search(r"^last activity:\s+never$", out, re.M)
    assert "new secondary key of contoso (shown this once; the primary key keeps working):" in out
    assert out.rstrip().endswith("resource contoso deleted; 0 number(s) released")


def test_the_admin_api_calls_run_as_written(doc_server: ServerProcess) -> None:
    block = shell_blocks("Admin API")[0]
    out = run(block.replace("https://127.0.0.1:8443", doc_server.endpoint),
              NUMBERPOOL_ADMIN_TOKEN=ADMIN_TOKEN, CURL_CA_BUNDLE=str(doc_server.ca))
    answers, decoder, at = [], json.JSONDecoder(), 0
    while at < len(out):
        answer, at = decoder.raw_decode(out, at)
        answers.append(answer)
    created, shown, rotated, deleted, document = answers
    assert created["id"] == "fabrikam" and created["connectionString"].startswith(f"endpoint={doc_server.endpoint}/;")
    assert shown["id"] == "fabrikam" and shown["ownedNumbers"] == 0
    assert set(rotated) == {"id", "primaryKey", "connectionString"} and rotated["primaryKey"] != created["primaryKey"]
    assert deleted == {"id": "fabrikam", "releasedNumbers": 0}
    assert document == DOCUMENT


def test_the_admin_api_number_event_and_report_calls_run_as_written(doc_server: ServerProcess) -> None:
    setup, block = shell_blocks("Admin API")
    variables = "".join(line + "\n" for line in setup.splitlines() if line.startswith(("API=", "AUTH=")))
    out = run((variables + block).replace("https://127.0.0.1:8443", doc_server.endpoint),
              NUMBERPOOL_ADMIN_TOKEN=ADMIN_TOKEN, CURL_CA_BUNDLE=str(doc_server.ca))
    answers, decoder, at = [], json.JSONDecoder(), 0
    while (at := len(out) - len(out[at:].lstrip())) < len(out):
        answer, at = decoder.raw_decode(out, at)
        answers.append(answer)
    number, released, report, *events = answers
    assert number["phoneNumber"] == "+18002000000" and number["state"] == "available" and "history" in number
    assert released == {"released": [], "notAging": ["+18002000000"]}
    assert report["total"] == sum(report["byState"].values()) > 0
    assert events and all(set(e) >= {"id", "at", "event", "actor"} for e in events)
    assert ("resource created", "devresource", "declared") in {(e["event"], e["resource"], e["detail"]) for e in events}


IMPORTS = "Imports, the catalog and operations through the admin API"


def _admin_variables(server: ServerProcess) -> str:
    setup = shell_blocks("Admin API")[0]
    return "".join(line + "\n" for line in setup.splitlines() if line.startswith(("API=", "AUTH=")))


def test_the_admin_api_import_calls_run_as_written(doc_server: ServerProcess, tmp_path: Path) -> None:
    block = shell_blocks(IMPORTS)[0]
    out = run((_admin_variables(doc_server) + block).replace("https://127.0.0.1:8443", doc_server.endpoint),
              cwd=tmp_path, NUMBERPOOL_ADMIN_TOKEN=ADMIN_TOKEN, CURL_CA_BUNDLE=str(doc_server.ca))
    job, at = json.JSONDecoder().raw_decode(out)
    assert job["state"] == "succeeded" and job["name"] == "numbers.csv", job
    assert (job["rowsRead"], job["imported"], job["rejected"]) == (4, 2, 2)
    rejects = out[at:].splitlines()
    assert rejects[0] == "phoneNumber,numberType,error" and len(rejects) == 3
    assert rejects[1].startswith("+14257360001,geographic,") and "appears earlier" in rejects[1]


def test_the_admin_api_range_catalog_and_operations_calls_run_as_written(
    doc_server: ServerProcess, tmp_path: Path
) -> None:
    block = shell_blocks(IMPORTS)[1]
    variables = _admin_variables(doc_server)
    outputs = [run((variables + line).replace("https://127.0.0.1:8443", doc_server.endpoint), cwd=tmp_path,
                   NUMBERPOOL_ADMIN_TOKEN=ADMIN_TOKEN, CURL_CA_BUNDLE=str(doc_server.ca))
               for line in block.splitlines()]
    added, withdrawn, exported, saved, imported, operations = outputs
    assert json.loads(added)["rows"] == 10 and json.loads(added)["rejected"] == 0
    assert json.loads(withdrawn)["withdrawn"] + json.loads(withdrawn)["alreadyWithdrawn"] == ["+14257370009"]
    assert exported.splitlines()[0].startswith("phoneNumber,") and "+14257370009," in exported
    assert saved == "" and "[[offerings]]" in (tmp_path / "catalog.toml").read_text()
    assert json.loads(imported)["summary"] == "catalog unchanged"
    assert isinstance(json.loads(operations)["value"], list)
