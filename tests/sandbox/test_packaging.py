"""The sandbox is development code: the product never imports it and the wheel does not ship it."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = ("signal_campaigns", "dlt_sources", "dagster_project")
SANDBOX_ONLY_LIBRARIES = ("starlette", "uvicorn")
# The runnable example pipelines still start the sandbox for their ``--sandbox`` flag; their own
# re-layout takes that out of them. Listed here so that the allowance goes with it (see below).
EXAMPLES_STILL_STARTING_THE_SANDBOX = {"dlt_sources/appsprint_pipeline.py", "dlt_sources/tiktok_ads_pipeline.py"}


def imported_top_levels(path: Path) -> set[str]:
    """The top-level names of every absolute import in one module (functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def product_modules() -> list[Path]:
    return sorted(p for package in PRODUCT_PACKAGES for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("forbidden", ["sandbox", *SANDBOX_ONLY_LIBRARIES])
def test_the_product_never_imports_the_sandbox(forbidden):
    modules = product_modules()
    assert len(modules) > 20  # the scan sees the packages
    offenders = {str(p.relative_to(ROOT)) for p in modules if forbidden in imported_top_levels(p)}
    if forbidden == "sandbox":
        still = {p for p in EXAMPLES_STILL_STARTING_THE_SANDBOX if (ROOT / p).exists()}
        assert still <= offenders, "an example no longer imports the sandbox: drop it from the allowance"
        offenders -= still
    assert offenders == set(), f"{forbidden} imported by the product: {sorted(offenders)}"


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_wheel_ships_the_product_packages_only():
    find = pyproject()["tool"]["setuptools"]["packages"]["find"]
    packages = find_packages(str(ROOT), include=find["include"], exclude=find.get("exclude", ()))
    assert {p.split(".")[0] for p in packages} == set(PRODUCT_PACKAGES)
    assert "signal_campaigns.forwarding" in packages and "dlt_sources.appsprint" in packages


def test_the_sandbox_servers_are_an_optional_extra():
    project = pyproject()["project"]
    runtime = {d.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip() for d in project["dependencies"]}
    assert not runtime & set(SANDBOX_ONLY_LIBRARIES)
    assert set(SANDBOX_ONLY_LIBRARIES) <= set(project["optional-dependencies"]["sandbox"])
