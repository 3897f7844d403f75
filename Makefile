# The platform's commands. `make run` and `make test` work from a fresh clone with Python 3.11,
# Node 20 and npm: each does its own set-up (.venv, node_modules) first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INPUT ?= samples/events
OUT ?= out

.PHONY: setup run test lint typecheck unit bench soak emulators-up emulators-down clean

## Also compiles the project's modules: Python caches bytecode only where it may write it, and where
## PYTHONDONTWRITEBYTECODE is set (as in many containers) every command would compile them again.
setup: $(VENV)/.installed node_modules/.installed
	@$(PY) -m compileall -q -j 0 pipeline orchestrations schemas function_app.py > /dev/null

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
	$(PY) -m pipeline run --input $(INPUT) --out $(OUT) && $(PY) -m pipeline report --out $(OUT); status=$$?; \
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

## A million-event generated stream through the local pipeline, sampled every 10 s; writes soak/results.json
## and docs/images/soak.png and says whether throughput and memory stayed flat. Not part of `make test`.
## SOAK_EVENTS sets the length; SOAK_AZURITE_PORT (and the next two) and SOAK_COSMOS_PORT start the soak's
## own emulators beside ones already running on the default ports.
SOAK_EVENTS ?= 1000000
SOAK_AZURITE_PORT ?= 10000
SOAK_COSMOS_PORT ?= 8081
SOAK_PORTS := --azurite-port $(SOAK_AZURITE_PORT) --cosmos-port $(SOAK_COSMOS_PORT)
soak: setup
	NODE_OPTIONS=--max-old-space-size=8192 $(PY) emulators/ctl.py up $(SOAK_PORTS)
	$(PY) -m pipeline soak --events $(SOAK_EVENTS) $(SOAK_PORTS); status=$$?; \
	$(PY) emulators/ctl.py down $(SOAK_PORTS); exit $$status

clean:
	rm -rf $(OUT) soak .pytest_cache .ruff_cache .mypy_cache .emulators
