# Every target sets itself up: a fresh clone needs only python3 (3.11+).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test bench lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[flask,test,dev]'
	touch $@

# The benchmark's peers (python-lolhtml, gunicorn) are never needed to run or test.
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@

demo: $(STAMP)
	$(PY) -m demo_site

test: $(STAMP)
	$(PY) -m pytest

bench: $(BENCH_STAMP)
	$(PY) -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check consentgate demo_site tests bench
	$(VENV)/bin/ruff format --check consentgate demo_site tests bench
	$(VENV)/bin/mypy
