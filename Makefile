# Every command the README names. Each target bootstraps the virtualenv it needs.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CDK := node_modules/.bin/cdk
# The UI's browser test drives Debian's Chromium (Playwright never downloads a browser).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# Keep jsii and the cdk CLI from printing Node-version and telemetry notices.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED := true
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := 1

.PHONY: setup demo test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

$(CDK): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(CDK)

setup: $(STAMP) $(CDK)  ## .venv with attak and its dev tools; the pinned cdk CLI (npm)

demo: setup  ## the main job: simulate the sample topology, then synthesize its stack
	$(BIN)/attak simulate sample_topology
	$(BIN)/attak synth sample_topology

$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y --no-install-recommends chromium

test: setup $(CHROMIUM)  ## the whole test suite (installs Debian's Chromium if missing)
	$(BIN)/python -m pytest

lint: $(STAMP)  ## ruff (lint + format check) and mypy strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup  ## benchmarks (see bench/README.md)
	$(BIN)/python bench/simulate_throughput.py
	$(BIN)/python bench/synth_scaling.py
	$(BIN)/python bench/emit_efficiency.py

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache .hypothesis
