# The single entry point: a person and CI run the same targets. Each creates .venv on first use and reuses it
# until requirements-dev.lock changes. Dependencies are declared in pyproject.toml and locked in uv.lock; pip
# installs the hashed export of that lock, so a fresh machine needs only Python 3.13 and make.
PYTHON ?= python3.13
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST_ARCH := $(shell uname -m | sed -e 's/aarch64/arm64/')
ENV ?= dev
BUILD_DIR := .aws-sam/build
export SAM_CLI_TELEMETRY := 0
export PYTHONPATH := layers/shared:.

# The two exports of uv.lock: everything for development, and the layer's runtime dependencies (boto3 comes
# from the Lambda runtime). `make lock` writes them, `make lock-check` fails when they differ from the lock.
EXPORT := $(BIN)/uv export --frozen --no-emit-project --format requirements-txt --no-header --quiet
GENERATED := \# Generated from uv.lock by make lock; do not edit.
export_dev = { echo "$(GENERATED) Everything pip installs for make dev, test and bench."; $(EXPORT); }
export_sketches = { echo "$(GENERATED) DataSketches, for the functions that build or merge sketches."; \
	$(EXPORT) --only-group sketches; }
SKETCH_FUNCTIONS := $(wildcard functions/media_analytics functions/analytics_top functions/stats_rollup_worker)
export_layer = { echo "$(GENERATED) The shared layer's runtime dependencies, boto3 left out:"; \
	echo "\# the Lambda runtime provides it."; $(EXPORT) --no-dev --no-emit-package boto3 --no-emit-package s3transfer; }

.PHONY: install lock lock-check dev rollup test lint infra build build-host players deploy bench clean

install: $(STAMP)

$(STAMP): requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-dev.lock
	touch $(STAMP)

## lock: after changing pyproject.toml's dependencies, re-resolve uv.lock and write its two exports.
lock: install
	$(BIN)/uv lock
	$(export_dev) > requirements-dev.lock
	$(export_layer) > layers/shared/requirements.txt
	$(foreach f,$(SKETCH_FUNCTIONS),$(export_sketches) > $(f)/requirements.txt;)

## lock-check: pyproject.toml, uv.lock and the two exports agree (part of lint, so of make test).
lock-check: install
	$(BIN)/uv lock --check
	$(export_dev) | diff -u requirements-dev.lock - >&2 || (echo "requirements-dev.lock is stale: run make lock" >&2; exit 1)
	$(export_layer) | diff -u layers/shared/requirements.txt - >&2 || \
		(echo "layers/shared/requirements.txt is stale: run make lock" >&2; exit 1)
	$(foreach f,$(SKETCH_FUNCTIONS),$(export_sketches) | diff -u $(f)/requirements.txt - >&2 || \
		(echo "$(f)/requirements.txt is stale: run make lock" >&2; exit 1);)

## dev: the whole API on http://127.0.0.1:3000 (docs at /docs) over an embedded moto server; no Docker, no AWS.
## One line per API request; VERBOSE=1 also shows every emulator request.
dev: install
	$(BIN)/python -m devtools.local_stack $(if $(VERBOSE),--verbose)

## rollup: the daily rollup once, against the running `make dev` stack: FROM=YYYY-MM-DD TO=YYYY-MM-DD backfills those
## days; without them it rolls yesterday and the day before, as the schedule does. The dev stack's worker does the rest.
rollup: install
	$(BIN)/python -m devtools.local_stack.rollup $(if $(FROM),--from $(FROM)) $(if $(TO),--to $(TO)) \
		$(if $(AWS_PORT),--aws-port $(AWS_PORT))

## test: everything CI checks, cheapest first.
test: install lint infra build-host players
	$(BIN)/python -m pytest tests/unit tests/devtools tests/integration tests/e2e tests/contract tests/infra

lint: install lock-check
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

## players: the real players the tests drive: ffprobe (Debian's ffmpeg) and headless Chromium (Debian's chromium,
## driven by the playwright package, which never downloads a browser of its own). Installed with apt-get where
## missing; where they cannot be installed, the tests that need them skip and say why.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
PLAYERS := $(if $(shell command -v ffprobe),,ffmpeg) $(if $(shell command -v chromium),,chromium)
players:
	@$(if $(strip $(PLAYERS)),($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends \
		$(PLAYERS)) || echo "players: $(strip $(PLAYERS)) could not be installed; the tests that need them will skip",true)

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
