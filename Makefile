# The single entry point: a person and CI run the same targets. Each creates .venv on first use and reuses it
# until requirements-dev.lock changes.
PYTHON ?= python3.13
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST_ARCH := $(shell uname -m | sed -e 's/aarch64/arm64/')
ENV ?= dev
BUILD_DIR := .aws-sam/build
export SAM_CLI_TELEMETRY := 0
export PYTHONPATH := layers/shared:.

.PHONY: install dev test lint infra build build-host deploy bench clean

install: $(STAMP)

$(STAMP): requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	touch $(STAMP)

## dev: the whole API on http://127.0.0.1:3000 (docs at /docs) over an embedded moto server; no Docker, no AWS.
## One line per API request; VERBOSE=1 also shows every emulator request.
dev: install
	$(BIN)/python -m devtools.local_stack $(if $(VERBOSE),--verbose)

## test: everything CI checks, cheapest first.
test: install lint infra build-host
	$(BIN)/python -m pytest tests/unit tests/devtools tests/integration tests/e2e tests/contract tests/infra

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/shared functions devtools tests

## infra: the template's own checks, offline.
infra: install
	$(BIN)/sam validate --lint
	$(BIN)/cfn-lint template.yaml
	$(BIN)/checkov --config-file .checkov.yaml -f template.yaml

## build: the deployable artifact (arm64 by default), with bytecode compiled in.
build: install
	$(BIN)/sam build
	$(BIN)/python -m compileall -q --invalidation-mode unchecked-hash $(BUILD_DIR)

## build-host: the same artifact for this machine's architecture, so tests and the benchmark can import it.
build-host: install
	$(BIN)/sam build --no-cached --parameter-overrides Architecture=$(HOST_ARCH)
	$(BIN)/python -m compileall -q --invalidation-mode unchecked-hash $(BUILD_DIR)

## deploy: sam deploy with samconfig.toml's environment ENV (dev or prod); needs AWS credentials.
deploy: build
	$(BIN)/sam deploy --config-env $(ENV)

## bench: cold init and warm overhead per function, as ratios against floors measured in the same run.
bench: build-host
	$(BIN)/python -m devtools.bench

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
