"""Every third-party package the code imports is declared in pyproject.toml.

A module that imports a package only installed as somebody else's dependency works until that other
package drops it; declaring each direct import keeps `make lock` honest. The product's packages must
be covered by `[project].dependencies` or by a product extra (:data:`PRODUCT_EXTRAS`: the Spark
target's packages, imported only when that target is chosen); the sandbox, tests and benchmarks may
also use the development extras.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("signal_campaigns", "dlt_sources", "dagster_project")
DEVELOPMENT = ("sandbox", "tests", "bench", "scripts")
FIRST_PARTY = {*PRODUCT, "sandbox", "tests", "bench"}
# optional extras of the product itself (`pip install signal-campaigns[spark]`)
PRODUCT_EXTRAS = ("spark",)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9_.\-]+", requirement.strip())
    assert match, requirement
    return _normalise(match.group(0))


def _declared() -> tuple[set[str], set[str]]:
    """(what the product may import, what development code may import besides)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = project.get("optional-dependencies", {})
    runtime = {_requirement_name(r) for r in project["dependencies"]}
    runtime |= {_requirement_name(r) for name in PRODUCT_EXTRAS for r in groups.get(name, [])}
    extras = {_requirement_name(r) for group in groups.values() for r in group}
    return runtime, extras


def _imported_top_levels(folder: Path) -> dict[str, str]:
    """Top-level module name -> first file importing it, for every absolute import under ``folder``."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def _third_party(imports: dict[str, str]) -> dict[str, str]:
    local = {p.stem for p in ROOT.glob("bench/*.py")} | {p.stem for p in ROOT.glob("tests/**/*.py")}
    return {
        name: where
        for name, where in imports.items()
        if name not in sys.stdlib_module_names and name not in FIRST_PARTY and name not in local
    }


@functools.cache
def _installed() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _distributions(module: str) -> set[str]:
    return {_normalise(d) for d in _installed().get(module, [])}


@pytest.mark.parametrize("folder", PRODUCT + DEVELOPMENT)
def test_every_imported_package_is_declared(folder: str) -> None:
    path = ROOT / folder
    if not path.exists():
        pytest.skip(f"{folder}/ does not exist")
    runtime, extras = _declared()
    allowed = runtime if folder in PRODUCT else runtime | extras
    undeclared = {}
    for module, where in _third_party(_imported_top_levels(path)).items():
        dists = _distributions(module)
        assert dists, f"{where} imports {module!r}, which no installed distribution provides"
        if not dists & allowed:
            undeclared[module] = (where, sorted(dists))
    assert not undeclared, (
        f"imported by {folder}/ but not declared in pyproject.toml "
        f"({'[project].dependencies' if folder in PRODUCT else 'dependencies or an extra'}): {undeclared}"
    )
