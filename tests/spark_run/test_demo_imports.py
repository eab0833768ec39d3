"""`make demo` stays as fast on the DuckDB target: neither it nor the forwarder's command line
imports PySpark (or dlt, for the forwarder) unless the Spark target is selected."""

from __future__ import annotations

from tests.conftest import run_module

CHECK = "import sys, sandbox.demo, signal_campaigns.forwarding.__main__; print('pyspark' in sys.modules)"


def test_the_duckdb_demo_and_forwarder_never_import_pyspark():
    assert run_module("tests.spark_run.imports_of", CHECK).strip() == "False"
