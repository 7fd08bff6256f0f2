# The two commands of the README's quick start, plus lint. Each does its own set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint format install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## run: prepare a development instance (keys, secrets, migrated SQLite, example flows) and serve on :5000
# HOST/PORT: where `make run` serves (tests pass PORT=0 for a free port).
HOST ?= 127.0.0.1
PORT ?= 5000
run: install
	FLOWGATE_ENV=development $(BIN)/flowgate init
	FLOWGATE_ENV=development $(BIN)/flowgate run --host $(HOST) --port $(PORT)

## test: the whole suite (SQLite always; PostgreSQL too when FLOWGATE_TEST_POSTGRES_URL is set)
test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
