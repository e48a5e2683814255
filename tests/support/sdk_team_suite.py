"""The SDK team's own tests, from the PyPI source distribution, run live against numberpool.

`azure-communication-phonenumbers` 1.4.0's sdist ships its `test/` folder. It is fetched at
test time with pip into a cache directory (never into the repository), checked against its
known SHA-256, unpacked, and run by a pytest subprocess whose `sys.path` starts with
`tests/sdk_team_standin` (stand-ins for the helpers their tests import from the SDK
repository: no test proxy, no recordings). The live modules run against a real numberpool
server per engine, prepared as the SDK team's live resource is: one purchased number, one
reservation. The outcome of every test comes back as JSON (`numberpool_suite_plugin`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[2]
STANDIN = REPOSITORY / "tests" / "sdk_team_standin"
FIDELITY_DOC = REPOSITORY / "docs" / "fidelity.md"
FIDELITY_SECTION = "## The SDK team's own tests"

PACKAGE = "azure-communication-phonenumbers"
VERSION = "1.4.0"
SDIST = f"azure_communication_phonenumbers-{VERSION}.tar.gz"
SDIST_SHA256 = "ca542ce6c8c2b179f2d2aaf8e38bf06734bb9ab2511ca784fadbeb5b524b7058"  # as published on PyPI

# The environment the SDK team's live pipeline gives their tests (read by their files and conftest).
TEST_AGENT = "NUMBERPOOL"
COUNTRY = "US"
# Their files' name for why purchases are off (numberpool_suite_plugin lifts exactly that skip).
PURCHASE_REASON_CONSTANT = "PURCHASE_PHONE_NUMBER_TEST_SKIP_REASON"
RUN_SECONDS = 420  # bound on one subprocess run; a live module takes about half a minute


class SuiteUnavailable(Exception):
    """The sdist could not be fetched or unpacked (no network to PyPI, for instance)."""


def fetch_tests(cache_dir: Path) -> Path:
    """The sdist's `test/` folder, downloaded once into `cache_dir` and unpacked beside it."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    archive = cache_dir / SDIST
    if not (archive.is_file() and _sha256(archive) == SDIST_SHA256):
        download = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "--disable-pip-version-check",
             "--timeout", "30", "--retries", "2", "--dest", str(cache_dir), f"{PACKAGE}=={VERSION}"],
            capture_output=True, text=True, timeout=300,
        )
        if download.returncode != 0 or not archive.is_file():
            tail = (download.stderr or download.stdout).strip().splitlines()[-3:]
            raise SuiteUnavailable(f"pip download of the {PACKAGE} {VERSION} sdist failed: {' / '.join(tail)}")
        if _sha256(archive) != SDIST_SHA256:
            raise SuiteUnavailable(f"{archive} does not have the published SHA-256 {SDIST_SHA256}")
    unpacked = cache_dir / f"unpacked-{SDIST_SHA256[:12]}"
    tests = unpacked / f"azure_communication_phonenumbers-{VERSION}" / "test"
    if not tests.is_dir():
        with tarfile.open(archive) as sdist:
            sdist.extractall(unpacked, filter="data")
        if not tests.is_dir():
            raise SuiteUnavailable(f"the {PACKAGE} {VERSION} sdist has no test/ folder")
    return tests


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def live_modules(tests: Path) -> list[str]:
    """Their modules that talk to a service: those built on their live test case class."""
    return sorted(p.name for p in tests.glob("test_*.py") if "PhoneNumbersTestCase" in p.read_text(encoding="utf-8"))


def offline_modules(tests: Path) -> list[str]:
    live = set(live_modules(tests))
    return sorted(p.name for p in tests.glob("test_*.py") if p.name not in live)


@dataclass
class Run:
    """What the plugin reported: collected test ids and one outcome per test."""

    collected: list[str]
    purchase_tests_enabled: list[str]
    results: dict[str, dict[str, Any]]
    output: str

    @staticmethod
    def merge(runs: list[Run]) -> Run:
        return Run(
            [test for run in runs for test in run.collected],
            [test for run in runs for test in run.purchase_tests_enabled],
            {test: outcome for run in runs for test, outcome in run.results.items()},
            "\n".join(run.output for run in runs),
        )


class PytestRun:
    """pytest over some of the SDK team's modules, in a subprocess, with the stand-ins first on sys.path.

    `start()` returns at once, so runs against several servers can overlap (their tests mostly
    wait: the SDK polls long-running operations every 2 s); `wait()` collects the outcome.
    """

    def __init__(self, tests: Path, modules: list[str], env: dict[str, str], *extra: str) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="numberpool-sdk-suite-")
        self._results = Path(self._scratch.name) / "results.json"
        self._log = Path(self._scratch.name) / "output.txt"
        self._environment = {
            **os.environ,
            **env,
            "PYTHONPATH": os.pathsep.join([str(STANDIN), str(tests), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "PYTHONDONTWRITEBYTECODE": "1",  # leave the unpacked sdist as pip gave it
            "NUMBERPOOL_SDK_SUITE_RESULTS": str(self._results),
        }
        self._command = [sys.executable, "-m", "pytest", "-c", str(STANDIN / "pytest.ini"), "--rootdir", str(tests),
                         "-q", "-rN", "--tb=short", *extra, *modules]
        self._cwd = tests
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> PytestRun:
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(self._command, cwd=self._cwd, env=self._environment,
                                             stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait(self) -> Run:
        assert self._process is not None, "start() first"
        timed_out = ""
        try:
            self._process.wait(RUN_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            timed_out = f"killed after {RUN_SECONDS} s"
        try:
            output = self._log.read_text(encoding="utf-8", errors="replace")
            if not self._results.is_file():
                raise AssertionError(f"the SDK team's test run reported nothing (exit {self._process.returncode}):\n{output}")
            data = json.loads(self._results.read_text(encoding="utf-8"))
        finally:
            self._scratch.cleanup()
        for outcome in data["results"].values():
            if outcome["outcome"] == "running":  # what the run was doing when it was killed
                outcome.update(outcome="error", detail=f"still running: {timed_out or 'the run ended'}\n{output[-6000:]}")
        return Run(data["collected"], data["purchase_tests_enabled"], data["results"], output)


def collect(tests: Path, cache_dir: Path) -> list[str]:
    """Every test id of their folder, as their own pytest collects it; cached per sdist and stand-in."""
    key = hashlib.sha256(SDIST_SHA256.encode())
    for path in sorted(STANDIN.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            key.update(path.name.encode() + path.read_bytes())
    cached = cache_dir / f"collected-{key.hexdigest()[:16]}.json"
    if cached.is_file():
        return json.loads(cached.read_text(encoding="utf-8"))
    run = PytestRun(tests, live_modules(tests) + offline_modules(tests), {}, "--collect-only").start().wait()
    if not run.collected:
        raise AssertionError(f"nothing collected from the SDK team's tests:\n{run.output}")
    cached.write_text(json.dumps(run.collected), encoding="utf-8")
    return run.collected


def live_environment(connection_string: str, ca: Path, phone_number: str) -> dict[str, str]:
    """The variables the SDK team's live pipeline sets, pointing at a numberpool server."""
    return {
        "AZURE_TEST_RUN_LIVE": "true",
        "COMMUNICATION_LIVETEST_STATIC_CONNECTION_STRING": connection_string,
        "COMMUNICATION_LIVETEST_DYNAMIC_CONNECTION_STRING": connection_string,
        "AZURE_TEST_AGENT": TEST_AGENT,
        f"AZURE_PHONE_NUMBER_{TEST_AGENT}": phone_number,
        "AZURE_PHONE_NUMBER": phone_number,
        "AZURE_COMMUNICATION_SERVICE_COUNTRY_CODE": COUNTRY,
        "COMMUNICATION_SKIP_INT_PHONENUMBERS_TEST": "false",
        "COMMUNICATION_SKIP_CAPABILITIES_LIVE_TEST": "false",
        # requests reads REQUESTS_CA_BUNDLE, aiohttp's default SSL context SSL_CERT_FILE.
        "REQUESTS_CA_BUNDLE": str(ca),
        "SSL_CERT_FILE": str(ca),
    }


def fidelity_exceptions(doc: Path = FIDELITY_DOC) -> dict[str, str]:
    """The tests docs/fidelity.md says cannot apply: `| pattern | reason |` rows of its section.

    A pattern is an id of the form `engine::module::Class::test` with fnmatch wildcards.
    """
    if not doc.is_file():
        return {}
    text = doc.read_text(encoding="utf-8")
    start = text.find(FIDELITY_SECTION)
    if start < 0:
        return {}
    section = text[start + len(FIDELITY_SECTION):]
    end = re.search(r"^## ", section, flags=re.MULTILINE)
    rows = re.findall(r"^\|\s*`([^`]+)`\s*\|\s*(.+?)\s*\|\s*$", section[: end.start() if end else None], flags=re.MULTILINE)
    return dict(rows)


def listed_reason(test_id: str, exceptions: dict[str, str]) -> str | None:
    for pattern, reason in exceptions.items():
        if fnmatchcase(test_id, pattern):
            return reason
    return None
