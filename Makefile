# Every target sets itself up: a fresh clone needs only python3 (3.11+).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
BENCH_STAMP := $(VENV)/.installed-bench
SCAN_STAMP := $(VENV)/.installed-scan
DJANGO_STAMP := $(VENV)/.installed-django

.PHONY: demo django-example test test-pure check bench lint scan-demo messages catalogues

# The compiled translations, rebuilt when their .po source changes (installing the
# package compiles them too: setup.py).
PO_FILES := $(wildcard consentgate/locale/*/LC_MESSAGES/consentgate.po) \
	$(wildcard consentgate/locale/*/LC_MESSAGES/catalogue.po)
MO_FILES := $(PO_FILES:.po=.mo)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The compiled scanner: editable installs build it in place (where a C compiler exists),
# so a change to its source reinstalls.
SPEEDUPS := setup.py consentgate/_speedups.c

# The demo needs the package and Flask only, not the test and lint tools.
$(DEMO_STAMP): pyproject.toml $(SPEEDUPS) | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[flask,i18n]'
	touch $@

$(STAMP): pyproject.toml $(SPEEDUPS) | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[flask,test,dev]'
	touch $@

# The benchmark's peers (python-lolhtml, gunicorn) are never needed to run or test.
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@

# The scanner drives the system Chromium (apt-get install chromium); no browser download.
$(SCAN_STAMP): pyproject.toml $(SPEEDUPS) | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[flask,scan]'
	touch $@

# The Django example needs the package and Django only.
$(DJANGO_STAMP): pyproject.toml $(SPEEDUPS) | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[django]'
	touch $@

catalogues: $(MO_FILES)

consentgate/locale/%.mo: consentgate/locale/%.po
	$(PY) -c 'import setup; setup.compile_catalogues()'

demo: $(DEMO_STAMP) catalogues
	$(PY) -m demo_site

# examples/django on http://127.0.0.1:8000/: its database, an admin user for local use
# (admin / admin-example) and Django's development server.
django-example: $(DJANGO_STAMP) catalogues
	cd examples/django && ../../$(PY) manage.py migrate -v0
	cd examples/django && ../../$(PY) manage.py shell -c "from django.contrib.auth.models \
		import User; User.objects.filter(username='admin').exists() or \
		User.objects.create_superuser('admin', 'admin@example.com', 'admin-example')"
	cd examples/django && ../../$(PY) manage.py runserver 127.0.0.1:8000

# Serve the demo on a free port, scan every page it links to as three visitors, stop it.
scan-demo: $(SCAN_STAMP)
	mkdir -p build
	$(PY) -m consentgate scan --config demo_site/consent.toml --wsgi 'demo_site:create_app()' \
		--crawl 20 --html build/scan-demo.html /

# Test processes (pytest-xdist): one per core of the 2-core CI machine. Each runs its
# browser tests after its other tests (tests/conftest.py); TEST_JOBS=0 runs in one process.
TEST_JOBS ?= 2

test: $(STAMP) catalogues
	$(PY) -m pytest -n $(TEST_JOBS)

# The tokenizer's tests again on the pure-Python gate (the fallback where no compiler is).
test-pure: $(STAMP)
	CONSENTGATE_PURE=1 $(PY) -m pytest -q -n $(TEST_JOBS) tests/test_rewriter.py \
		tests/test_rewriter_loads.py tests/test_conformance.py tests/test_html5lib_data.py

# The unit tests, without the browser suite: seconds, for every change.
check: $(STAMP) catalogues
	$(PY) -m pytest -q --ignore=tests/browser -n $(TEST_JOBS)

bench: $(BENCH_STAMP)
	$(PY) -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check consentgate demo_site tests bench examples
	$(VENV)/bin/ruff format --check consentgate demo_site tests bench examples
	$(VENV)/bin/mypy

# Extract the gate's messages into the catalogue template (after marking new ones), and
# the built-in cookies' purposes and lifetimes (trackers.toml, presets.toml) into catalogue.pot.
messages: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k consent_gettext -k consent_ngettext:1,2 -c "Translators:" --no-wrap --sort-by-file \
		--project consentgate --version 0.1.0 --msgid-bugs-address "" \
		-o consentgate/locale/consentgate.pot .
	$(PY) -c 'import setup; setup.write_catalogue_template()'
