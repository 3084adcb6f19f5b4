# Two commands on a fresh machine: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export HOST ?= 127.0.0.1
export PORT ?= 8000
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test test-sqlite test-postgres test-browser venv translations messages lint migrate demo bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

translations: venv
	$(VENV)/bin/pybabel compile --use-fuzzy -d server/translations -D messages --statistics 2>/dev/null || \
	  $(VENV)/bin/pybabel compile --use-fuzzy -d server/translations -D messages

## For developers: collect the Russian texts into messages.pot and merge them into the catalogues.
messages: venv
	$(VENV)/bin/pybabel extract -F babel.cfg -k _ -k gettext -k gettext_lazy -k ngettext:1,2 \
	  --no-location --sort-output -o server/translations/messages.pot .
	$(VENV)/bin/pybabel update -i server/translations/messages.pot -d server/translations \
	  -D messages --no-fuzzy-matching

migrate: venv
	$(PY) -m server migrate

demo: migrate
	DEMO=1 $(PY) -m server demo

## Set everything up and serve the app with demo data on $HOST:$PORT.
run: venv translations migrate
	DEMO=$${DEMO:-1} $(PY) -m server serve

## Set everything up and run every test: SQLite, then PostgreSQL, then the browser.
test: venv translations lint test-sqlite test-postgres test-browser

lint: venv
	$(VENV)/bin/ruff check server tests bench
	$(VENV)/bin/ruff format --check server tests bench
	$(VENV)/bin/mypy

test-sqlite: venv
	$(VENV)/bin/pytest -q -m "not browser"

test-postgres: venv
	@$(PY) -m tests.services_check $(TEST_DATABASE_URL) $(TEST_REDIS_URL) \
	  || (echo "Start PostgreSQL and Redis first (see README)." >&2; exit 1)
	TEST_REDIS_URL=$(TEST_REDIS_URL) TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(VENV)/bin/pytest -q -m "not browser"

## Lighthouse for the PWA audit, kept outside the repository (docs/lighthouse.md).
LIGHTHOUSE_DIR ?= /tmp/lh
$(LIGHTHOUSE_DIR)/node_modules/.bin/lighthouse:
	mkdir -p $(LIGHTHOUSE_DIR) && cd $(LIGHTHOUSE_DIR) && npm i -E --no-audit --no-fund --silent lighthouse@12.2.3

test-browser: venv $(LIGHTHOUSE_DIR)/node_modules/.bin/lighthouse
	@test -x $(CHROMIUM) || (echo "Chromium is missing at $(CHROMIUM): apt-get install chromium" >&2; exit 1)
	CHROMIUM=$(CHROMIUM) $(VENV)/bin/pytest -q -m browser

bench: venv
	$(PY) -m bench

clean:
	rm -rf $(VENV) var .pytest_cache
