# The two set-up commands of the README: `make serve` and `make test`.
# Each bootstraps its own virtual environment in .venv.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: serve test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/numberpool serve $(ARGS)

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .numberpool .pytest_cache
