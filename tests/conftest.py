"""Shared fixtures. Tests are offline: hub access is switched off for the whole session.

The suite runs in parallel (``make test``: pytest-xdist, one process per core), so every test
keeps to itself: its own tmp folders and response cache, free ports, its own
PostgreSQL database (tests/store_support.py), and one torch thread per process (two workers on
two cores would otherwise each start a thread per core and fight over them; child processes
inherit the same setting through ``OMP_NUM_THREADS``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# read by torch (and numpy's BLAS) when first imported, here and in every child process
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).parent))


def pytest_configure(config: pytest.Config) -> None:
    """One torch thread even if a plugin imported torch before the environment was set."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _module_fixture_users(item: pytest.Item) -> bool:
    """Whether the test uses a module-scoped fixture (built once per module per process)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(defs and defs[-1].scope == "module" for defs in info.name2fixturedefs.values())


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order and group the tests for parallel workers (``pytest -n N --dist loadgroup``).

    - The tests of a module that share a module-scoped fixture (a tiny model, a finished run)
      stay on one worker, so the fixture is built once, not once per worker.
    - Modules with slow tests run first: the long ones start early and the many short ones fill
      the gaps at the end, so neither worker waits alone for a long test at the end.
    Within a module the order is unchanged, so module fixtures are still set up once.
    """
    def module(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    for item in items:
        if _module_fixture_users(item):
            item.add_marker(pytest.mark.xdist_group(f"module:{module(item)}"))
    slow_modules = {module(item) for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: module(item) not in slow_modules)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own response cache unless it sets one (parallel workers never share
    a cache file)."""
    monkeypatch.setenv("EVAL_ANYTHING_CACHE_DIR", str(tmp_path / "ea-cache"))


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama") / "model")


@pytest.fixture(scope="session")
def tiny_llama_b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second checkpoint with different weights (same architecture)."""
    from tiny import build_tiny_llama

    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama-b") / "model", seed=1)
