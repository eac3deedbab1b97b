# Seva — one entry point for people and CI. Every target sets up what it needs on a fresh clone.
SHELL := /bin/bash
VENV := .venv
SAM_VENV := .sam-venv
CHECKOV_VENV := .checkov-venv
PY313 := $(shell PYENV_VERSION=3.13.0 pyenv which python 2>/dev/null)
PYTHON ?= $(if $(PY313),$(PY313),python3)
PIP_FLAGS := --quiet --disable-pip-version-check

# The browser tests drive Debian's chromium (Playwright, no browser download); Devanagari needs Noto fonts
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help setup lock browser up demo test test-unit test-integration test-e2e lint format build bench bench-flood model scenario clean

help:
	@echo "make demo   run the bundled scenario end to end on the local cloud"
	@echo "make up     the web app on the local cloud, playing the bundled scenario (seva up --port 8080)"
	@echo "make test   lint + unit, integration and end-to-end tests"
	@echo "make lint   ruff + mypy + cfn-lint + IAM policy test + checkov;  make build   sam build (python3.13);  make bench   benchmarks"
	@echo "make bench-flood  an SOS after a 1,500-complaint flood vs alone (FLOOD_ARGS=--quick; --shared-cpu when not root)"
	@echo "make model  retrain triage's model from tests/data (labelled set and fresh batches)"

# Installs the lock (every transitive dependency pinned, each file checked against its hash).
$(VENV)/.installed: requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "Python >= 3.12 needed"'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) --upgrade pip
	$(VENV)/bin/pip install $(PIP_FLAGS) --require-hashes -r requirements-dev.lock
	$(VENV)/bin/pip install $(PIP_FLAGS) --no-deps -e .
	@touch $@

setup: $(VENV)/.installed

# After editing requirements.txt or requirements-dev.txt: re-resolve both locks (universal: any OS, CPU and
# Python >= 3.12, so the same lock serves this machine and Lambda's python3.13 on arm64). Needs PyPI.
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --generate-hashes --universal --python-version 3.12
lock: setup
	$(UV_COMPILE) requirements.txt -o requirements.lock
	$(UV_COMPILE) requirements-dev.txt -o requirements-dev.lock

browser:
	@command -v chromium >/dev/null && fc-list 2>/dev/null | grep -q NotoSansDevanagari || { \
		$(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-noto-core >/dev/null; }

demo: setup
	$(VENV)/bin/seva demo $(DEMO_ARGS)

up: setup
	$(VENV)/bin/seva up $(UP_ARGS)

test: setup browser lint
	$(VENV)/bin/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-unit: setup
	$(VENV)/bin/pytest -q tests/unit
test-integration: setup
	$(VENV)/bin/pytest -q tests/integration
test-e2e: setup browser
	$(VENV)/bin/pytest -q tests/e2e

lint: setup $(CHECKOV_VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/policy
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet \
		--skip-download 2>/dev/null

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# checkov (IaC security scanner) pins its own boto3/pydantic/networkx: a tool venv of its own, like SAM's.
$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install $(PIP_FLAGS) checkov==3.3.30
	@touch $@

# aws-sam-cli pins its own boto3/pydantic: it gets a tool venv of its own.
$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install $(PIP_FLAGS) aws-sam-cli==1.170.0
	@touch $@

build: $(SAM_VENV)/.installed
	PATH="$(dir $(PYTHON)):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint
	PATH="$(dir $(PYTHON)):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build

bench: setup build
	$(VENV)/bin/python bench/poll_bench.py
	$(VENV)/bin/python bench/triage_bench.py
	$(VENV)/bin/python bench/coldstart_bench.py
	$(VENV)/bin/python bench/artefact_bench.py

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
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .localcloud .pytest_cache .mypy_cache .ruff_cache
