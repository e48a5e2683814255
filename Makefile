# The two set-up commands of the README: `make serve` and `make test`.
# Both use the virtual environment in .venv: `make serve` installs only what serving needs
# (SERVE_STAMP), `make test` adds the test tools (STAMP, the `[test]` extra).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SERVE_STAMP := $(VENV)/.installed-serve
ARGS ?=

.PHONY: serve test bench bench-quick tools fuzz soak clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(SERVE_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $(SERVE_STAMP)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(SERVE_STAMP) $(STAMP)

serve: $(SERVE_STAMP)
	$(VENV)/bin/numberpool serve $(ARGS)

# The JavaScript SDK test installs its own pinned packages (`npm ci` in tests/js, once per lock);
# it needs Node.js 20+ and npm, and fails without them when CI is set.
# The SDK team's own Python tests (tests/test_sdk_team_suite.py) come from the azure-communication-phonenumbers
# sdist, fetched from PyPI with pip once (cached in .pytest_cache); without PyPI they skip, and fail when CI is set.
# Two test processes (pytest-xdist), a test module in each at a time: most tests wait on a server
# process or the database, so two keep both cores busy. TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 2
test: $(STAMP) tools
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# wrk drives the benchmarks (and the benchmark smoke test); PgBouncer sits in front of PostgreSQL
# in the scale-out tests (tests/test_scale_out.py); Chromium runs the console's browser tests
# (tests/test_console_browser.py, never Playwright's own browser download). Debian's packages.
PGBOUNCER ?= /usr/sbin/pgbouncer
tools:
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; } \
		|| echo "warning: could not install wrk (apt-get wrk); the benchmark smoke test will fail" >&2
	@test -x $(PGBOUNCER) || command -v pgbouncer >/dev/null 2>&1 \
		|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends pgbouncer; } \
		|| echo "warning: could not install pgbouncer (apt-get pgbouncer); the PgBouncer test will fail" >&2
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; } \
		|| echo "warning: could not install chromium (apt-get chromium); the console's browser tests will skip (fail under CI)" >&2

bench/prism/node_modules/.package-lock.json: bench/prism/package-lock.json
	cd bench/prism && npm ci --no-audit --no-fund --loglevel=error

bench: $(STAMP) tools bench/prism/node_modules/.package-lock.json
	$(PY) -m bench.run $(ARGS)

bench-quick: $(STAMP) tools bench/prism/node_modules/.package-lock.json
	$(PY) -m bench.run --quick $(ARGS)

# Schema fuzzing of every operation of both api-versions, and of the admin API, with more examples than `make test`
# runs (tests/test_fuzz.py, tests/test_admin_fuzz.py); NUMBERPOOL_FUZZ_EXAMPLES sets how many per operation.
NUMBERPOOL_FUZZ_EXAMPLES ?= 200
fuzz: $(STAMP)
	NUMBERPOOL_FUZZ_EXAMPLES=$(NUMBERPOOL_FUZZ_EXAMPLES) $(PY) -m pytest tests/test_fuzz.py tests/test_admin_fuzz.py -s -p no:cacheprovider

# Ten minutes of mixed load against a real server (bench/soak.py): RSS growth, errors and the
# invariant are checked; SOAK_SECONDS shortens it, SOAK_DATABASE=postgresql://... runs it on PostgreSQL.
SOAK_SECONDS ?= 600
soak: $(STAMP)
	SOAK_SECONDS=$(SOAK_SECONDS) $(PY) -m bench.soak

clean:
	rm -rf $(VENV) .numberpool .pytest_cache
