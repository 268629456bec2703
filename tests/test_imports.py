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


# Third-party libraries the fork server loads once before forking a child per module. Only
# libraries outside the project: a module of ours that forgot to import one of its own siblings
# is still caught, because each child starts with no project module loaded. (What is given up: a
# module reaching ``lib.sub`` through ``import lib`` alone, where ``lib.sub`` is among these.)
PRELOAD = ("numpy", "pandas", "scipy.stats", "pydantic", "yaml", "typer", "rich", "sqlalchemy",
           "aiohttp", "PIL.Image", "torch", "transformers", "transformers.modeling_utils",
           "transformers.trainer_utils", "transformers.trainer", "peft", "trl", "datasets",
           "accelerate", "sklearn", "streamlit")

_FORK_SERVER = """
import importlib, json, os, sys, traceback
for lib in json.loads(sys.argv[1]):
    try:
        importlib.import_module(lib)
    except Exception:
        pass  # an optional library this machine lacks: the modules needing it say so
assert not [m for m in sys.modules if m.split(".")[0] in ("eval_anything", "trainers")]
workers, results, running = int(sys.argv[3]), {}, {}

def reap():
    pid, status = os.wait()
    name, fd = running.pop(pid)
    with os.fdopen(fd, "rb") as f:
        why = f.read().decode() or None
    results[name] = why if why or status == 0 else f"child exit status {status}"

for name in json.loads(sys.argv[2]):
    while len(running) >= workers:
        reap()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: this one module, in a process no project module was loaded in
        os.close(r)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        try:
            importlib.import_module(name)
            msg = ""
        except BaseException as e:
            msg = traceback.format_exception_only(type(e), e)[-1].strip()[:2000]
        os.write(w, msg.encode())
        os._exit(0)
    os.close(w)
    running[pid] = (name, r)
while running:
    reap()
print(json.dumps(results))
"""


def imports_alone(names: list[str], workers: int = 2, preload: tuple[str, ...] = PRELOAD
                  ) -> dict[str, str | None]:
    """Each module imported in a process of its own in which no project module was loaded:
    forked from one interpreter that loaded :data:`PRELOAD` once, so a child pays only for the
    project's modules (a fresh interpreter per module paid torch and transformers each time:
    about 200 s on two cores for the tree; this way about a tenth of that)."""
    proc = subprocess.run(
        [sys.executable, "-c", _FORK_SERVER, json.dumps(preload), json.dumps(names),
         str(workers)], capture_output=True, text=True, cwd=ROOT, env=_env(),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
def test_each_module_imports_in_its_own_interpreter() -> None:
    """Each module alone in a process where no other project module was loaded, so no module
    imported before it can hide an import it forgot."""
    results = imports_alone(importable_modules(), workers=os.cpu_count() or 2)
    failures = {name: why for name, why in results.items() if why is not None}
    assert not failures, _failure_report(failures)


def test_the_fork_server_reports_a_module_that_imports_only_after_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check catches what it is for: a module that works only when a sibling was imported
    first, and a module that does not exist."""
    pkg = tmp_path / "forkpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "base.py").write_text("import forkpkg\nforkpkg.READY = True\n")
    (pkg / "user.py").write_text("import forkpkg\nassert forkpkg.READY\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(tmp_path), os.environ.get("PYTHONPATH", "")) if p))
    results = imports_alone(["forkpkg.base", "forkpkg.user", "forkpkg.nothing"],
                            preload=("json",))
    assert results["forkpkg.base"] is None
    assert results["forkpkg.user"] and "AttributeError" in results["forkpkg.user"]
    assert results["forkpkg.nothing"] and "ModuleNotFoundError" in results["forkpkg.nothing"]


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false"}
