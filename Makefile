# KCS Portal. The two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: demo test lint format bench messages install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements file changes.
$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# The demo shows the portal's own 404/403/500 pages, not Django's debug pages. honcho gives
# each process a PORT of its own (web $(PORT), worker $(PORT)+100, ...), so the log
# shippers' address is set to the web's, whichever process deploys them.
demo: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@$(BIN)/python manage.py demo_banner --url http://$(HOST):$(PORT)/
	HOST=$(HOST) PORT=$(PORT) LOGS_INGEST_URL=http://$(HOST):$(PORT)/logs/ingest/ \
		DEBUG_ERROR_PAGES=0 $(BIN)/honcho --procfile Procfile start

# Four test processes that steal work from one another (each with its own database and
# Redis db): the suite mostly waits on kubesim, workers and browsers, so four share two
# cores well. The schema hunt is capped at 120 s a user; `KCS_SCHEMATHESIS_SECONDS=`
# (empty) runs it uncapped, to every operation (half an hour or more a user).
TEST_PROCESSES ?= 4
export KCS_SCHEMATHESIS_SECONDS ?= 120
test: install
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist worksteal $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m bench

# Regenerate the translation catalogues (needs GNU gettext) and compile them.
messages: install
	$(BIN)/python manage.py makemessages --locale zh_Hans --ignore '.venv/*' --ignore 'kubesim/*' --ignore 'tests/*' --ignore 'bench/*' --no-obsolete
	$(BIN)/python manage.py compilemessages --locale zh_Hans --ignore '.venv/*'

clean:
	rm -rf $(VENV) var
