# The platform's commands. `make run` and `make test` work from a fresh clone with Python 3.11,
# Node 20 and npm: each does its own set-up (.venv, node_modules) first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INPUT ?= samples/events
OUT ?= out

.PHONY: setup run test lint typecheck unit bench emulators-up emulators-down clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

emulators-up: setup
	$(PY) emulators/ctl.py up

emulators-down:
	$(PYTHON) emulators/ctl.py down

## The whole local pipeline over the sample data: emulators up, run, emulators down.
run: setup
	$(PY) emulators/ctl.py up
	$(PY) -m pipeline run --input $(INPUT) --out $(OUT); status=$$?; \
	$(PY) emulators/ctl.py down; exit $$status

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: setup
	$(PY) -m mypy

## Lint, type check, then the whole suite; the test session starts the emulators and stops them at the end.
test: setup lint typecheck
	$(PY) -m pytest

unit: setup
	$(PY) -m pytest -m "not emulators"

bench: setup
	$(PY) emulators/ctl.py up
	$(PY) -m pipeline bench; status=$$?; $(PY) emulators/ctl.py down; exit $$status

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache .mypy_cache .emulators
