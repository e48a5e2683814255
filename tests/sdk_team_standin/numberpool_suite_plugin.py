"""pytest plugin loaded into the run of the SDK team's tests (`-p numberpool_suite_plugin`).

- Turns the purchase tests on. Their files switch them off with a hard-coded
  `skipif(SKIP_PURCHASE_PHONE_NUMBER_TESTS, reason=PURCHASE_PHONE_NUMBER_TEST_SKIP_REASON)`
  because real numbers cost money; numbers from numberpool are free. There is no environment
  variable for it, so the plugin drops exactly that mark (matched by the module's own reason
  constant) from the collected items, and leaves the files untouched.
- Writes what it collected and each test's outcome (`running` while it runs) as JSON to $NUMBERPOOL_SDK_SUITE_RESULTS,
  for tests/test_sdk_team_suite.py to turn into one item per test.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

PURCHASE_REASON_CONSTANT = "PURCHASE_PHONE_NUMBER_TEST_SKIP_REASON"

_results: dict[str, dict[str, Any]] = {}
_collected: list[str] = []
_purchase_tests_enabled: list[str] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        reason = getattr(module, PURCHASE_REASON_CONSTANT, None)
        if reason is None:
            continue
        kept = [mark for mark in item.own_markers if not (mark.name == "skipif" and mark.kwargs.get("reason") == reason)]
        if len(kept) != len(item.own_markers):
            item.own_markers[:] = kept
            _purchase_tests_enabled.append(item.nodeid)


def pytest_collection_finish(session: pytest.Session) -> None:
    _collected.extend(item.nodeid for item in session.items)


def pytest_runtest_logstart(nodeid: str) -> None:
    _results[nodeid] = {"outcome": "running", "detail": "", "seconds": 0.0}
    _write()


def pytest_runtest_logfinish(nodeid: str) -> None:
    if _results[nodeid]["outcome"] == "running":
        _results[nodeid]["outcome"] = "passed"
    _write()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    result = _results[report.nodeid]
    result["seconds"] += report.duration
    if report.passed or result["outcome"] in ("failed", "error"):
        return
    if report.skipped:
        if result["outcome"] == "running":
            result["outcome"] = "skipped"
            result["detail"] = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return
    result["outcome"] = "failed" if report.when == "call" else "error"
    result["detail"] = report.longreprtext


def pytest_sessionfinish(session: pytest.Session) -> None:
    _write()


def _write() -> None:
    """Rewritten after every test, so a run that hangs still tells what ran and which test is stuck."""
    path = os.environ.get("NUMBERPOOL_SDK_SUITE_RESULTS")
    if path:
        with open(path + ".part", "w", encoding="utf-8") as out:
            json.dump({"collected": _collected, "purchase_tests_enabled": _purchase_tests_enabled, "results": _results}, out)
        os.replace(path + ".part", path)
