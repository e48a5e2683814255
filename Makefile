# The two set-up commands of the README: `make serve` and `make test`.
# Each bootstraps its own virtual environment in .venv.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: serve test bench bench-quick tools clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/numberpool serve $(ARGS)

test: $(STAMP) tools
	$(PY) -m pytest

# wrk drives the benchmarks (and the benchmark smoke test); Debian's package.
tools:
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; } \
		|| echo "warning: could not install wrk (apt-get wrk); the benchmark smoke test will fail" >&2

bench/prism/node_modules/.package-lock.json: bench/prism/package-lock.json
	cd bench/prism && npm ci --no-audit --no-fund --loglevel=error

bench: $(STAMP) tools bench/prism/node_modules/.package-lock.json
	$(PY) -m bench.run $(ARGS)

bench-quick: $(STAMP) tools bench/prism/node_modules/.package-lock.json
	$(PY) -m bench.run --quick $(ARGS)

clean:
	rm -rf $(VENV) .numberpool .pytest_cache
