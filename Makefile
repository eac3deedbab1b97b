# Seva — one entry point for people and CI. Every target sets up what it needs on a fresh clone.
SHELL := /bin/bash
VENV := .venv
SAM_VENV := .sam-venv
PY313 := $(shell PYENV_VERSION=3.13.0 pyenv which python 2>/dev/null)
PYTHON ?= $(if $(PY313),$(PY313),python3)
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: help setup demo test test-unit test-integration test-e2e lint format build bench bench-flood model scenario clean

help:
	@echo "make demo   run the bundled scenario end to end on the local cloud"
	@echo "make test   lint + unit, integration and end-to-end tests"
	@echo "make lint   ruff + mypy;  make build   sam build (python3.13);  make bench   benchmarks"
	@echo "make bench-flood  an SOS after a 1,500-complaint flood vs alone (FLOOD_ARGS=--quick)"
	@echo "make model  retrain triage's model from tests/data (labelled set and fresh batches)"

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 needed"'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(VENV)/bin/pip install $(PIP_FLAGS) -r requirements-dev.txt
	$(VENV)/bin/pip install $(PIP_FLAGS) --no-deps -e .
	@touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/seva demo $(DEMO_ARGS)

test: setup lint
	$(VENV)/bin/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-unit: setup
	$(VENV)/bin/pytest -q tests/unit
test-integration: setup
	$(VENV)/bin/pytest -q tests/integration
test-e2e: setup
	$(VENV)/bin/pytest -q tests/e2e

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint template.yaml

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# aws-sam-cli pins its own boto3/pydantic: it gets a tool venv of its own.
$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install $(PIP_FLAGS) aws-sam-cli==1.170.0
	@touch $@

build: $(SAM_VENV)/.installed
	PATH="$(dir $(PYTHON)):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint
	PATH="$(dir $(PYTHON)):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build

bench: setup
	$(VENV)/bin/python bench/poll_bench.py
	$(VENV)/bin/python bench/triage_bench.py

# Not part of `make test` (minutes of CPU): an SOS after 1,500 routine complaints vs alone, one run.
# FLOOD_ARGS=--quick for a smaller flood.
bench-flood: setup
	nice $(VENV)/bin/python bench/flood_bench.py $(FLOOD_ARGS)

model: setup
	$(VENV)/bin/python infra/tools/train_triage_model.py

scenario: setup
	$(VENV)/bin/python -m sevalocal.scenario_gen --tweets 160 --minutes 10 --escalations 6 --flood 12 \
		--out infra/scenarios/default.jsonl

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .localcloud .pytest_cache .mypy_cache .ruff_cache
