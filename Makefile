# Every target sets itself up: a fresh clone needs only python3 (3.11+).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test check bench lint

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The demo needs the package and Flask only, not the test and lint tools.
$(DEMO_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[flask]'
	touch $@

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[flask,test,dev]'
	touch $@

# The benchmark's peers (python-lolhtml, gunicorn) are never needed to run or test.
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@

demo: $(DEMO_STAMP)
	$(PY) -m demo_site

test: $(STAMP)
	$(PY) -m pytest

# The unit tests, without the browser suite: seconds, for every change.
check: $(STAMP)
	$(PY) -m pytest -q --ignore=tests/browser

bench: $(BENCH_STAMP)
	$(PY) -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check consentgate demo_site tests bench
	$(VENV)/bin/ruff format --check consentgate demo_site tests bench
	$(VENV)/bin/mypy
