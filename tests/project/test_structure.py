"""The layout's rules, checked: small modules, small classes, no import cycles, no sys.path edits.

Each concept has one room; a module that grows past 400 lines (or a class past 300) is doing more
than one thing. Declarative data tables are the exception and are listed here by name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("signal_campaigns", "dlt_sources", "dagster_project", "sandbox", "bench")
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 300
# declarative data tables (one row per line): allowed to be long
DATA_TABLES: set[str] = set()


def _modules() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_no_module_over_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES and str(p.relative_to(ROOT)) not in DATA_TABLES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by concern): {long}"


def test_no_class_over_300_lines() -> None:
    big = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                size = node.end_lineno - node.lineno + 1
                if size > MAX_CLASS_LINES:
                    big[f"{path.relative_to(ROOT)}:{node.name}"] = size
    assert not big, f"classes over {MAX_CLASS_LINES} lines: {big}"


def test_nothing_edits_sys_path() -> None:
    edits = []
    for path in [*_modules(), *sorted((ROOT / "tests").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in {"insert", "append", "extend"}
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "path"
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id == "sys"
            ):
                edits.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not edits, f"sys.path edits (run as a module from the repository root instead): {edits}"


def _module_level_imports(path: Path, name: str) -> set[str]:
    """First-party modules ``path`` imports when it is imported (not inside functions)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_no_import_cycles() -> None:
    paths = {_module_name(p): p for p in _modules()}
    graph = {
        name: {m for m in _module_level_imports(path, name) if m in paths and m != name} for name, path in paths.items()
    }
    # a package's __init__ importing its own submodules is how packages export names: not a cycle
    for name, deps in graph.items():
        graph[name] = {d for d in deps if not d.startswith(name + ".")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)
