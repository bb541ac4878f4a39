# The README's contract with a new user: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/langganan
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test test-sqlite test-postgres lint format bench serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed-app
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

## demo: install, migrate SQLite, build the demo café and its insights, print an owner's and a
## cashier's login, then serve the web app and the worker on $(HOST):$(PORT) (Ctrl+C stops both)
demo: $(VENV)/.installed-app
	$(BIN)/langganan migrate
	$(BIN)/langganan demo --no-hint
	$(BIN)/langganan analyze --merchant demo
	$(BIN)/langganan serve --host $(HOST) --port $(PORT)

serve: $(VENV)/.installed-app
	$(BIN)/langganan serve --host $(HOST) --port $(PORT)

## test: lint, then the whole suite on SQLite and on PostgreSQL
test: lint test-sqlite test-postgres

test-sqlite: $(VENV)/.installed-dev
	@echo "== test suite on SQLite =="
	env -u DATABASE_URL $(BIN)/pytest

# Skips with a message when PostgreSQL is unreachable, unless LANGGANAN_REQUIRE_POSTGRES=1.
test-postgres: $(VENV)/.installed-dev
	@echo "== test suite on PostgreSQL ($(POSTGRES_URL)) =="
	DATABASE_URL=$(POSTGRES_URL) $(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

## bench: run the benchmarks and write BENCHMARKS.md
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
