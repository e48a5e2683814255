"""The README's "Run your own inventory" section runs as written: its shell blocks in order,
with a real server in between and the official Python SDK buying an imported number."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from azure.communication.phonenumbers import PhoneNumberCapabilities, PhoneNumbersClient

from tests.support.sdk import client_options
from tests.support.server import ServerProcess

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## Run your own inventory", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def shell(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = str(Path(sys.executable).parent)  # where the `numberpool` console script is installed
    done = subprocess.run(["bash", "-e", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(cwd)})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done


def test_the_run_your_own_inventory_section_works_as_written(tmp_path: Path, development_ca: Path) -> None:
    load, serve, inspect = blocks()

    loaded = shell(load, tmp_path).stdout.splitlines()
    assert loaded[0] == "catalog imported: 1 countries added, 1 offerings added"
    assert loaded[1] == "3 rows: added 3, already present 0, rejected 0"
    assert loaded[2] == "100 rows: added 100, already present 0, rejected 0"
    assert [line.split() for line in loaded[3:]] == [
        ["country", "type", "areaCode", "available", "total"],
        ["NL", "geographic", "10", "1", "1"],
        ["NL", "geographic", "20", "102", "102"],
        ["all", "103", "103"],
    ]
    assert (tmp_path / "rejects.csv").read_text() == "phoneNumber,locality,error\n"  # the header only

    (command,) = serve.strip().splitlines()
    args = shlex.split(command)
    assert args[:2] == ["numberpool", "serve"]
    data_dir = tmp_path / "np"
    shutil.copytree(development_ca, data_dir / "tls")  # a CA the test's clients already trust
    args = [str(data_dir) if arg == "np" else str(tmp_path / arg) if arg.endswith(".toml") else arg for arg in args[2:]]
    server = ServerProcess(data_dir, *args).start()
    try:
        client = PhoneNumbersClient.from_connection_string(server.connection_string, **client_options(None, server))
        assert [(c.country_code, c.localized_name) for c in client.list_available_countries()] == [("NL", "Netherlands")]
        assert {loc.localized_name for loc in client.list_available_localities("NL")} == {"Amsterdam", "Rotterdam"}
        search = client.begin_search_available_phone_numbers(
            "NL", "geographic", "application", PhoneNumberCapabilities(calling="inbound+outbound", sms="none"),
            area_code="10", quantity=1, polling_interval=0).result()
        assert search.phone_numbers == ["+31101234567"]
        assert (search.cost.amount, search.cost.currency_code) == (1.25, "EUR")
        client.begin_purchase_phone_numbers(search.search_id, polling_interval=0).result()
    finally:
        server.stop()

    header, sold, withdrawn = shell(inspect, tmp_path).stdout.splitlines()
    assert header == "phoneNumber,numberType,areaCode,locality,administrativeDivision,state,resource,since,cost,currencyCode"
    assert sold.startswith("+31101234567,geographic,10,Rotterdam,,purchased,")
    assert sold.endswith(",1.25,EUR")
    assert withdrawn == "withdrawn 1, already withdrawn 0, refused 0"
