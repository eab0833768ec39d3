# The user's interface. Every target sets itself up on a fresh machine (Python 3.11 + make).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements/requirements.lock

.PHONY: demo test dev bench sandbox lock clean setup

setup: $(STAMP)

$(STAMP): $(LOCK) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	@$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r $(LOCK)
	@$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

## demo: the main job on the local sandbox
demo: $(STAMP)
	@$(BIN)/python -m signal_campaigns.demo

## test: the whole test suite
test: $(STAMP)
	@$(BIN)/python -m pytest

## dev: the Dagster UI on the local sandbox
dev: $(STAMP)
	@$(BIN)/python -m signal_campaigns.dev

## sandbox: keep both sandbox servers running (Ctrl-C stops them)
sandbox: $(STAMP)
	@$(BIN)/python -m signal_campaigns.sandbox

## bench: every benchmark under bench/
bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

## lock: recompile the pinned dependency set from requirements/requirements.in
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet uv
	@$(BIN)/uv pip compile --quiet --python-version 3.11 requirements/requirements.in -o $(LOCK)

clean:
	rm -rf $(VENV) data/warehouse.duckdb data/warehouse_bi.duckdb data/pipelines .dagster_home
