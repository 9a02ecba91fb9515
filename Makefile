# Two commands matter: `make run` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest
PORT ?= 8000

.PHONY: run setup test test-sqlite test-postgres test-browser lint format messages clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo

run: setup
	@# the background worker computes the analysis results after each change of the data (at
	@# the lowest CPU priority, which it gives itself: analysis/tasks.py)
	$(PY) manage.py db_worker & WORKER=$$!; trap 'kill $$WORKER' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(VENV)/.installed test-sqlite test-postgres test-browser

test-sqlite: $(VENV)/.installed
	@echo "=== tests on SQLite ==="
	$(PYTEST) -m "not browser" -p no:cacheprovider

test-postgres: $(VENV)/.installed
	@echo "=== tests on PostgreSQL ==="
	$(PY) -m tests.pgcluster -- $(PYTEST) -m "not browser" -p no:cacheprovider

test-browser: $(VENV)/.installed
	@echo "=== browser tests in Chromium ==="
	$(PYTEST) -m browser -p no:cacheprovider

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l ru --no-obsolete --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var/db.sqlite3
