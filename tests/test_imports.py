"""Every module imports on its own, and the module-level import graph has no new cycle.

Why: a module that only imports after some other module was imported first works in the test
suite (where many modules are already loaded) and fails for the user who imports it alone; and
an import cycle is a change waiting to break with a half-initialized module. Both checks read the
package layout from ``setup.py`` (installed name -> folder), so they follow the tree as it moves.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Scripts that another program runs, not modules to import: the Streamlit page runs itself when
# imported (the leaderboard tests drive it through AppTest and a real server), and alembic's env
# script reads the context alembic sets up (the store migration tests run it through alembic).
NOT_IMPORTABLE = {"eval_anything.leaderboard.app", "eval_anything.store.migrations.env"}

# Import cycles that exist today, each an exact strongly connected component of the module-level
# import graph: none. Keep it empty: a new cycle is fixed by giving the shared thing a home both
# modules can import (the types in eval_anything/core/), not by listing it here.
KNOWN_CYCLES: list[frozenset[str]] = []


def package_roots() -> dict[str, Path]:
    """``setup.py``'s ROOTS mapping (installed package -> folder), read without running it."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "ROOTS" for t in node.targets)
        ):
            roots = ast.literal_eval(node.value)
            return {pkg: ROOT / folder for pkg, folder in roots.items()}
    raise AssertionError("setup.py has no ROOTS mapping; update tests/test_imports.py")


def all_modules(roots: dict[str, Path]) -> dict[str, Path]:
    """Installed module name -> source file, for every .py file under every root."""
    modules: dict[str, Path] = {}
    for pkg, folder in roots.items():
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            if any(not p.isidentifier() for p in parts):
                continue
            modules[".".join([pkg, *parts])] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_time_nodes(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Import statements executed when the module is imported: top level, inside module-level
    ``if``/``try``/``with`` blocks and class bodies; not in functions, not under TYPE_CHECKING."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                found += _import_time_nodes(node.body)
            found += _import_time_nodes(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                found += _import_time_nodes(block)
            for handler in node.handlers:
                found += _import_time_nodes(handler.body)
        elif isinstance(node, (ast.With, ast.ClassDef)):
            found += _import_time_nodes(node.body)
    return found


def _all_import_nodes(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can ever run: import-time ones and those inside functions;
    not those under ``TYPE_CHECKING`` (they never run)."""
    found: list[ast.Import | ast.ImportFrom] = []

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if _is_type_checking(node.test):
                for child in node.orelse:
                    self.visit(child)
            else:
                self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            found.append(node)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            found.append(node)

    visitor = Visitor()
    for node in body:
        visitor.visit(node)
    return found


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def import_graph(modules: dict[str, Path], deferred: bool = False) -> dict[str, set[str]]:
    """module -> the modules of ours it imports at import time (with ``deferred``, also inside
    functions). ``from pkg import name`` points at ``pkg.name`` when that is a module of ours,
    else at ``pkg``."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    nodes_of = _all_import_nodes if deferred else _import_time_nodes
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in nodes_of(tree.body):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    pkg = _package_of(module, path).split(".")
                    pkg = pkg[: len(pkg) - (node.level - 1)]
                    base = ".".join([*pkg, base] if base else pkg)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            graph[module] |= {t for t in targets if t in modules and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[frozenset[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(frozenset(component))
    return found


def _show(component: frozenset[str]) -> str:
    return "{" + ", ".join(sorted(component)) + "}"


def test_graph_finds_a_planted_cycle() -> None:
    """The cycle finder itself: a -> b -> c -> a is one component, d alone is none."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert cycles(graph) == [frozenset({"a", "b", "c"})]


def test_graph_counts_only_import_time_imports(tmp_path: Path) -> None:
    """Imports in functions and under TYPE_CHECKING run later (or never), so they make no edge;
    imports in module-level try/if blocks and relative imports do."""
    (tmp_path / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "try:\n    from pkg import b\nexcept ImportError:\n    b = None\n"
        "if TYPE_CHECKING:\n    from pkg import c\n"
        "def f():\n    from pkg import d\n"
    )
    (tmp_path / "b.py").write_text("from . import c\n")
    for name in ("c", "d"):
        (tmp_path / f"{name}.py").write_text("from pkg import a\n")
    modules = {f"pkg.{n}": tmp_path / f"{n}.py" for n in "abcd"}
    graph = import_graph(modules)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.c"}
    assert cycles(graph) == [frozenset({"pkg.a", "pkg.b", "pkg.c"})]


def test_no_new_import_cycles() -> None:
    graph = import_graph(all_modules(package_roots()))
    found = set(cycles(graph))
    known = set(KNOWN_CYCLES)
    new = found - known
    gone = known - found
    assert not new, (
        "new import cycle(s) among modules (imports at module level; move the shared thing to a "
        "module both can import, or import inside the function that needs it):\n"
        + "\n".join(_show(c) for c in sorted(new, key=sorted))
    )
    assert not gone, (
        "known import cycle(s) no longer exist (or changed members); update KNOWN_CYCLES in "
        "tests/test_imports.py:\n" + "\n".join(_show(c) for c in sorted(gone, key=sorted))
    )


def test_graph_with_deferred_imports_sees_imports_in_functions(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg import c\n"
        "def f():\n    from pkg import b\n"
    )
    (tmp_path / "b.py").write_text("import pkg.a\n")
    (tmp_path / "c.py").write_text("import pkg.a\n")
    modules = {f"pkg.{n}": tmp_path / f"{n}.py" for n in "abc"}
    graph = import_graph(modules, deferred=True)
    assert graph["pkg.a"] == {"pkg.b"}
    assert cycles(graph) == [frozenset({"pkg.a", "pkg.b"})]


def test_no_import_cycles_even_through_deferred_imports() -> None:
    """An import inside a function only postpones a cycle to the first call: the layout has
    none, at import time or later."""
    found = cycles(import_graph(all_modules(package_roots()), deferred=True))
    assert not found, (
        "import cycle(s) among modules, counting imports inside functions (give the shared "
        "thing a module both can import):\n"
        + "\n".join(_show(c) for c in sorted(found, key=sorted))
    )


_IMPORT_ALL = """
import importlib, json, sys, traceback
failures = {}
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except BaseException as e:  # report every module, not only the first that fails
        failures[name] = traceback.format_exception_only(type(e), e)[-1].strip()
print(json.dumps(failures))
"""


def importable_modules() -> list[str]:
    modules = sorted(set(all_modules(package_roots())) - NOT_IMPORTABLE)
    assert "eval_anything.run.runner" in modules
    assert "eval_anything.trainers.algorithms.dpo" in modules
    assert "eval_anything.leaderboard.data" in modules
    return modules


def _failure_report(failures: dict[str, str]) -> str:
    return "modules that fail to import:\n" + "\n".join(
        f"  {name}: {why}" for name, why in sorted(failures.items())
    )


def test_every_module_imports() -> None:
    """Every module, one after another in one fresh interpreter (the fast check: a module with a
    broken import, a missing dependency or an error at import time)."""
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, json.dumps(importable_modules())],
        capture_output=True, text=True, cwd=ROOT, env=_env(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    failures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not failures, _failure_report(failures)


def _import_alone(name: str) -> tuple[str, str | None]:
    proc = subprocess.run(
        [sys.executable, "-c", f"import {name}"], capture_output=True, text=True, cwd=ROOT,
        env=_env(),
    )
    if proc.returncode == 0:
        return name, None
    lines = proc.stderr.strip().splitlines()
    return name, lines[-1] if lines else f"exit {proc.returncode}"


def test_a_module_that_fails_to_import_is_reported() -> None:
    name, why = _import_alone("eval_anything.no_such_module")
    assert name == "eval_anything.no_such_module" and why and "ModuleNotFoundError" in why


@pytest.mark.slow
def test_each_module_imports_in_its_own_interpreter() -> None:
    """Each module alone in a new interpreter, so no module imported before it can hide an
    import it forgot (about 80 s of CPU for ~160 modules; run on every core)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(_import_alone, importable_modules()))
    failures = {name: why for name, why in results if why is not None}
    assert not failures, _failure_report(failures)


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false"}
