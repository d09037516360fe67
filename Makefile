# Every command a person or CI runs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGE_DIRS := libs/common services/api services/snapshotter services/differ services/recoverer services/graph-emulator
PACKAGES := $(foreach p,$(PACKAGE_DIRS),-e $(p))
PYPROJECTS := $(foreach p,$(PACKAGE_DIRS),$(p)/pyproject.toml)
SOURCES := libs services tests bench scripts devstack
PYTEST_ARGS ?=

.PHONY: help install constraints lint format typecheck test test-unit test-integration test-e2e test-fault up down demo bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv with every package (editable) and the dev tools, pinned by constraints.txt

$(STAMP): constraints.txt requirements-dev.txt $(PYPROJECTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-r requirements-dev.txt $(PACKAGES)
	@touch $(STAMP)

constraints: ## re-pin every third-party version from the current .venv into constraints.txt
	$(BIN)/python scripts/freeze_constraints.py > constraints.txt

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)

format: $(STAMP) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix $(SOURCES)
	$(BIN)/ruff format $(SOURCES)

typecheck: $(STAMP) ## mypy --strict over every package, the tests and the benchmarks
	$(BIN)/mypy libs/common/src services/api/src services/snapshotter/src services/differ/src \
		services/recoverer/src services/graph-emulator/src tests bench scripts devstack

test: $(STAMP) ## the whole test suite; starts the Redis and MongoDB servers it needs
	$(BIN)/pytest tests $(PYTEST_ARGS)

test-unit: $(STAMP) ## fast, pure tests
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

test-integration: $(STAMP)
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

test-e2e: $(STAMP)
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

test-fault: $(STAMP)
	$(BIN)/pytest tests/fault $(PYTEST_ARGS)

up: $(STAMP) ## start the local stack in the background (state under var/)
	$(BIN)/python -m devstack.localstack up

down: ## stop the local stack
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m devstack.localstack down; fi

demo: $(STAMP) ## install, start the stack, play backup → incident → report → recovery
	$(BIN)/python -m devstack.localstack up
	$(BIN)/python -m devstack.demo

bench: $(STAMP) ## run every benchmark scenario; results in bench/results/
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean: down ## remove the virtualenv, local state and caches
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis
