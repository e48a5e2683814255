"""The README's quick-start snippet runs verbatim against a real server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def quickstart_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_quickstart_snippet_buys_and_releases_a_number(server):
    snippet = quickstart_snippet()
    assert "begin_purchase_phone_numbers" in snippet
    result = subprocess.run(
        [sys.executable, "-c", snippet],
        env={
            "NUMBERPOOL_CONNECTION_STRING": server.connection_string,
            "REQUESTS_CA_BUNDLE": str(server.ca),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("held until")
    bought = re.match(r"bought (\+1\d{10}) for 2.0 USD a month", lines[1])
    assert bought, lines
    assert lines[2] == f"released {bought.group(1)}"


def test_connection_string_command_prints_the_development_resource():
    result = subprocess.run(
        [sys.executable, "-m", "numberpool", "connection-string", "--port", "9443"],
        capture_output=True, text=True, check=True,
    )
    assert result.stdout.strip() == (
        "endpoint=https://127.0.0.1:9443/;accesskey="
        "76ALReWbKYTvnI0s7vIro0YIafj8MsVKBd5ltjQCqve5t+vA65wL2s+Vu6WDtj/hxsO9Bp214EK9vdY3qNo2kw=="
    )
