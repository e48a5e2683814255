"""The suite on a fresh clone, where the reference set is not beside the repository.

The repository's files (tracked or not ignored, as they are in this checkout: what a commit of it
would hold) are copied into a temporary folder with nothing beside it, and a few test files run
there: the ones that need the official spec files skip, with one reason printed on one line of
the summary; the others pass. Under CI=true the same run fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
# Quick files: two that need the reference set throughout (fuzzing, the validation hooks), one
# that needs it in part (the schema helpers), and one that does not need it at all.
FILES = ["tests/test_fuzz.py", "tests/test_schema_hook.py", "tests/test_wire_schema.py", "tests/test_model.py"]
# The schema helpers' tests need no server; test_model's need nothing at all.
SELECT = "schema_helper or test_model or test_fuzz or hook or checked"


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("fresh") / "numberpool"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPOSITORY, capture_output=True, check=True, timeout=60).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPOSITORY / name
        if source.is_file():  # not a file deleted and not yet committed
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, where / name)
    assert not (where.parent / "shared").exists()
    return where


def _pytest(clone: Path, *, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NUMBERPOOL_REFERENCE", "PYTEST_ADDOPTS")}
    if ci:
        env["CI"] = "true"
    env["PYTHONPATH"] = str(clone / "src")  # the clone's own code, not this checkout's
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *FILES, "-k", SELECT],
        cwd=clone, env=env, capture_output=True, text=True, timeout=600,
    )


def test_without_the_reference_set_the_tests_that_need_it_skip_with_one_reason(clone: Path) -> None:
    run = _pytest(clone, ci=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    reason = [line for line in output.splitlines() if "reference set is not at" in line]
    assert len(reason) == 1, output  # one folded line in the summary, whatever the number of tests
    assert reason[0].startswith("SKIPPED [") and int(reason[0][9:].split("]")[0]) >= 5, output
    assert str(clone.parent / "shared" / "reference") in reason[0]
    assert " passed" in output and " skipped" in output, output


def test_under_ci_the_tests_that_need_the_reference_set_fail(clone: Path) -> None:
    run = _pytest(clone, ci=True)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert "under CI=true they must run" in output, output
