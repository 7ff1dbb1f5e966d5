"""The layout's rules hold: no import cycles anywhere in app or engine, a lab never imports
another lab, the app does not depend on its benchmarks, the engine is NumPy and the standard
library only, and no module grows past about 400 lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 420  # "about 400"


def cycles(graph, modules) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), plus self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(module: str) -> None:
        index[module] = low[module] = counter[0]
        counter[0] += 1
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module) & modules):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1 or module in graph.find_modules_directly_imported_by(module):
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles_in_app_or_engine():
    # Type-checking-only and function-level imports count too: grimp sees them all.
    graph = grimp.build_graph("app", "engine")
    assert cycles(graph, set(graph.modules)) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    package = tmp_path / "looped"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from looped import b\n")
    (package / "b.py").write_text(
        "def f():\n    from looped import c  # a late import still counts\n"
    )
    (package / "c.py").write_text("import looped.a\n")
    (package / "d.py").write_text("import looped.a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("looped", cache_dir=None)
    assert cycles(graph, set(graph.modules)) == [["looped.a", "looped.b", "looped.c"]]


def test_import_linter_contracts_are_kept():
    """The contracts in pyproject.toml: layers, independent labs, no benchmarks, pure engine."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "5 kept, 0 broken" in result.stdout


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted((ROOT / "engine").rglob("*.py")), ids=str)
def test_the_engine_imports_only_numpy_and_the_standard_library(path):
    allowed = set(sys.stdlib_module_names) | {"numpy", "engine", "__future__"}
    assert imported_roots(path) <= allowed


def test_the_app_never_imports_the_benchmarks():
    offenders = [p for p in (ROOT / "app").rglob("*.py") if "benchmarks" in imported_roots(p)]
    assert offenders == []


def test_no_module_is_over_about_400_lines():
    sizes = {
        str(p.relative_to(ROOT)): len(p.read_text().splitlines())
        for folder in ("app", "engine")
        for p in (ROOT / folder).rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def test_every_lab_package_has_its_templates_and_the_same_module_names():
    from app.labs import LABS

    for lab in LABS:
        package = ROOT / "app" / "labs" / lab.slug
        assert (package / "routes.py").is_file() and (package / "fields.py").is_file(), lab.slug
        assert (ROOT / "templates" / lab.slug).is_dir(), lab.slug
        assert lab.router.routes, lab.slug


@pytest.mark.parametrize(
    "path", sorted((ROOT / "benchmarks").glob("bench_*.py")), ids=lambda p: p.stem
)
def test_every_benchmark_imports_what_it_uses(path):
    """The benchmarks import the app and the engine, never the other way round; a name they
    import from a module that moved breaks here rather than in `make bench`."""
    import importlib

    module = importlib.import_module(f"benchmarks.{path.stem}")
    tree = ast.parse(path.read_text())
    ours = ("app", "engine", "benchmarks")
    aliases = {
        alias.asname or alias.name: importlib.import_module(alias.name)
        for node in ast.walk(tree) if isinstance(node, ast.Import)
        for alias in node.names if alias.name.split(".")[0] in ours and alias.asname
    }  # fmt: skip
    for node in ast.walk(tree):
        named = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
        if named and node.value.id in aliases:
            assert hasattr(aliases[node.value.id], node.attr), f"{path.name}: {node.attr}"
        ours_from = isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        if ours_from and node.module.split(".")[0] in ours:
            target = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(target, alias.name) or importlib.util.find_spec(
                    f"{node.module}.{alias.name}"
                ), f"{path.name}: {node.module}.{alias.name}"
    assert callable(module.main)
