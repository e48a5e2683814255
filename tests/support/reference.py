"""Where the read-only reference set is, and what a test that needs it does when it is missing.

The reference set (official OpenAPI files per api-version, recordings of the real service) sits
beside the repository as `../shared/reference`, or wherever `$NUMBERPOOL_REFERENCE` says. A fresh
clone has no such folder: the tests that need it then skip, all with the same reason, reported at
the same place (the hooks below move skips raised in fixtures there too), so pytest's summary
(`-ra`, the project's default) prints the reason once, on one line, with how many tests it
skipped. Under `CI=true` they fail instead: CI runs every test. Registered as a plugin by
tests/conftest.py.

Tests that only *check* responses against the spec along the way (the validating hooks of
`tests/support/validation.py`) run either way and check what they can.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest


def _reference_root() -> Path:
    """The read-only reference set: $NUMBERPOOL_REFERENCE, or `shared/reference` beside the repository."""
    if os.environ.get("NUMBERPOOL_REFERENCE"):
        return Path(os.environ["NUMBERPOOL_REFERENCE"])
    repository = Path(__file__).resolve().parents[2]
    return repository.parent / "shared" / "reference"


REFERENCE_ROOT = _reference_root()
SPEC_ROOT = REFERENCE_ROOT / "acs-spec" / "PhoneNumbers"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def reference_present(spec_root: Path | None = None) -> bool:
    return ((spec_root or SPEC_ROOT) / "stable").is_dir()


def missing_reason(spec_root: Path | None = None) -> str:
    where = (spec_root or SPEC_ROOT).parent.parent
    return (f"the reference set is not at {where} (shared/reference beside the repository, "
            "or $NUMBERPOOL_REFERENCE): the tests that need the official spec files skip")


def require_reference(spec_root: Path | None = None, *, module: bool = False) -> None:
    """Return when the reference set is there; otherwise skip (fail under CI=true) with one shared reason."""
    if reference_present(spec_root):
        return
    reason = missing_reason(spec_root)
    if in_ci():
        pytest.fail(f"{reason}; under CI=true they must run: restore it", pytrace=False)
    pytest.skip(reason, allow_module_level=module)


# ---------------------------------------------------------------- pytest hooks


def _one_place(report: pytest.TestReport | pytest.CollectReport) -> None:
    """A skip for the missing reference set is reported at require_reference, wherever it was raised."""
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple) and "the reference set is not at" in longrepr[2]:
        report.longrepr = (__file__, require_reference.__code__.co_firstlineno, longrepr[2])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _one_place(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    _one_place(report)
    return report
