# The user's interface. Every target sets itself up on a fresh machine (Python 3.11 + make).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements/requirements.lock
SPARK_LOCK  := requirements/spark.lock
SPARK_STAMP := $(VENV)/.spark-installed

.PHONY: demo demo-spark test dev bench sandbox lock clean setup spark-setup lint lint-py lint-sql format

setup: $(STAMP)

$(STAMP): $(LOCK) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	@$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r $(LOCK)
	@$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

## spark-setup: the Spark target's extras (docs/targets.md): Java from Debian (scripts/spark.sh), PySpark and dbt-spark from requirements/spark.lock
spark-setup: $(SPARK_STAMP)

$(SPARK_STAMP): $(STAMP) $(SPARK_LOCK)
	@bash scripts/spark.sh >/dev/null
	@$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r $(SPARK_LOCK)
	@touch $(SPARK_STAMP)

## demo: the main job on the local sandbox
demo: $(STAMP)
	@$(BIN)/python -m sandbox.demo

## demo-spark: the same main job on the Spark target (docs/targets.md): lake data/lake, Spark data/spark, ledger and BI copy in data/warehouse.duckdb
demo-spark: $(SPARK_STAMP)
	@SIGNAL_DBT_TARGET=spark $(BIN)/python -m sandbox.demo

## test: the whole test suite (with the Spark target's extras: its test builds the models on Spark)
test: $(STAMP) $(SPARK_STAMP)
	@$(BIN)/python -m pytest

## lint: ruff (lint + format check), mypy, sqlfluff over the dbt project; what CI runs first
lint: lint-py lint-sql

lint-py: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy

# sqlfluff renders the models with dbt (compile only: it opens a scratch DuckDB file, not the warehouse)
lint-sql: $(STAMP)
	@mkdir -p data
	@cd dbt && SIGNAL_WAREHOUSE_PATH=$(CURDIR)/data/.sqlfluff.duckdb ../$(BIN)/sqlfluff lint --processes 2 models tests analyses

## format: apply ruff's fixes and formatting, and sqlfluff's fixes to the dbt models
format: $(STAMP)
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .
	@cd dbt && SIGNAL_WAREHOUSE_PATH=$(CURDIR)/data/.sqlfluff.duckdb ../$(BIN)/sqlfluff fix --processes 2 models tests analyses

## dev: the Dagster UI on the local sandbox (the virtualenv first on the PATH: dagster dev parses dbt with the dbt it finds there)
dev: $(STAMP)
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m sandbox.dev

## sandbox: keep both sandbox servers running (Ctrl-C stops them)
sandbox: $(STAMP)
	@$(BIN)/python -m sandbox

## bench: every benchmark under bench/ (each runs as a module: python -m bench.bench_x; the Spark build bench needs the Spark extras)
bench: $(STAMP) $(SPARK_STAMP)
	@for f in bench/bench_*.py; do m=$$(basename $$f .py); echo "== bench.$$m"; $(BIN)/python -m bench.$$m || exit 1; done

## lock: recompile the pinned dependency set from requirements/requirements.in
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet uv
	@$(BIN)/uv pip compile --quiet --python-version 3.11 requirements/requirements.in -o $(LOCK)
	@$(BIN)/uv pip compile --quiet --python-version 3.11 requirements/spark.in -c $(LOCK) -o $(SPARK_LOCK)

clean:
	rm -rf $(VENV) data/warehouse.duckdb data/warehouse_bi.duckdb data/pipelines .dagster_home
