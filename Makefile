# kapsession: `make run` opens the app, `make test` runs every check. Both install what is
# missing first (system packages via scripts/system-deps.sh, then the virtualenv).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
ARGS ?=
PYTEST_ARGS ?=

STAMP := $(VENV)/.kapsession-installed
SUBMAKE := $(MAKE) --no-print-directory --silent
export PYTHON VENV

.PHONY: help venv run demo test test-isolated test-fresh lint format bench bundle clean

help:
	@echo "make run      install what is missing, then open the app (ARGS='...' for arguments)"
	@echo "make test     install what is missing, then lint, type-check and run pytest"
	@echo "              (PYTEST_ARGS='...' is passed to pytest)"
	@echo "make test-isolated  run each test file alone in a fresh pytest, PASS/FAIL and time per"
	@echo "              file; fails if any file fails alone (ARGS='tests/domain ...' to choose)"
	@echo "make test-fresh  the README's make run and make test in a clean Debian 12 root"
	@echo "              (debootstrap; as root; about 25 minutes; see scripts/test-fresh.sh)"
	@echo "make lint     ruff check, ruff format --check, mypy, lint-imports"
	@echo "make format   sort imports and format the code with ruff"
	@echo "make bench    run every benchmarks/bench_*.py; fails only when a gating target fails"
	@echo "make bundle   build the room-laptop bundle (PyInstaller, with libVLC) in dist/kapsession"
	@echo "make demo     open the app in training mode (kapsession demo)"
	@echo "make venv     create or update $(VENV) only"
	@echo "make clean    remove $(VENV), caches and the private test database"

# The venv is rebuilt when pyproject.toml changes; the stamp lives inside it, so deleting
# the venv also forgets the stamp.
venv: $(STAMP)

$(STAMP): pyproject.toml scripts/venv.sh
	@bash scripts/venv.sh $(STAMP)

run:
	@bash scripts/system-deps.sh run
	@$(SUBMAKE) venv
	$(VENV)/bin/kapsession $(ARGS)

demo:
	@bash scripts/system-deps.sh run
	@$(SUBMAKE) venv
	$(VENV)/bin/kapsession demo $(ARGS)

test:
	@bash scripts/system-deps.sh test
	@$(SUBMAKE) venv
	@bash scripts/check.sh test $(PYTEST_ARGS)

test-isolated:
	@bash scripts/system-deps.sh test
	@$(SUBMAKE) venv
	@bash scripts/test-isolated.sh $(ARGS)

test-fresh:
	@bash scripts/test-fresh.sh full

lint: venv
	@bash scripts/check.sh lint

format: venv
	$(VENV)/bin/ruff check --select I --fix .
	$(VENV)/bin/ruff format .

bench:
	@bash scripts/system-deps.sh run
	@$(SUBMAKE) venv
	@bash scripts/bench.sh

bundle:
	@bash scripts/system-deps.sh bundle
	@$(SUBMAKE) venv
	@bash scripts/bundle.sh

clean:
	@bash scripts/test-postgres.sh destroy
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache \
		.hypothesis .import_linter_cache
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
