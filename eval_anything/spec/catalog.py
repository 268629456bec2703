"""Finds task and group specs: the bundled suites, ``--include-path`` folders, and folders that
plugins register (entry point ``tasks.<name>`` in ``eval_anything.plugins``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from eval_anything import registry
from eval_anything.spec.task import GroupSpec, TaskSpec, TaskSpecError, load_spec_file

LM_EVAL_PREFIX = "lm_eval:"
TASK_FILE_SUFFIXES = (".yaml", ".yml")


def bundled_tasks_dir() -> Path:
    import importlib

    bundled = importlib.import_module("eval_anything.tasks")
    return Path(str(bundled.__file__)).parent


@dataclass
class Catalog:
    tasks: dict[str, TaskSpec] = field(default_factory=dict)
    groups: dict[str, GroupSpec] = field(default_factory=dict)

    def add_dir(self, folder: Path) -> None:
        for path in sorted(Path(folder).rglob("*.yaml")):
            self.add_file(path)

    def add_file(self, path: Path) -> str:
        """Add one task or group file; returns its name."""
        spec = load_spec_file(path)
        name = spec.task if isinstance(spec, TaskSpec) else spec.group
        table: dict = self.tasks if isinstance(spec, TaskSpec) else self.groups
        other = table.get(name)
        if other is not None and not _same_file(other.file, spec.file):
            raise TaskSpecError(f"{path}: task name {name!r} is already defined in {other.file}")
        table[name] = spec
        return name

    def add_task_file(self, name: str) -> str:
        """``--tasks path/to/task.yaml`` (as lm-eval accepts): the file's task or group name."""
        path = Path(name).expanduser()
        if not path.is_file():
            raise TaskSpecError(
                f"--tasks {name}: no such task file (a name ending in .yaml/.yml is read as the "
                "path of a task YAML file; check the path)"
            )
        return self.add_file(path)

    def names(self) -> list[str]:
        return sorted(set(self.tasks) | set(self.groups) | self._implicit_groups())

    def _implicit_groups(self) -> set[str]:
        return {g for t in self.tasks.values() for g in t.groups}

    def group_members(self, name: str) -> list[str]:
        """Direct members of a group: listed in its file, plus tasks declaring membership."""
        members: list[str] = []
        if name in self.groups:
            members += self.groups[name].tasks
        members += [
            t.task for t in self.tasks.values() if name in t.groups and t.task not in members
        ]
        return members

    def is_group(self, name: str) -> bool:
        return name in self.groups or name in self._implicit_groups()

    def expand(self, names: Iterable[str]) -> tuple[list[str], list[str]]:
        """Requested names -> (tasks in order, groups in order, nested groups first)."""
        tasks: list[str] = []
        groups: list[str] = []

        def visit(name: str, stack: tuple[str, ...]) -> None:
            if name.startswith(LM_EVAL_PREFIX):
                if name not in tasks:
                    tasks.append(name)
                return
            if name.endswith(TASK_FILE_SUFFIXES):
                name = self.add_task_file(name)
            if name in stack:
                raise TaskSpecError(f"group cycle: {' -> '.join((*stack, name))}")
            if self.is_group(name):
                for m in self.group_members(name):
                    visit(m, (*stack, name))
                if name not in groups:
                    groups.append(name)
            elif name in self.tasks:
                if name not in tasks:
                    tasks.append(name)
            else:
                raise registry.UnknownComponentError(
                    registry.unknown_message("task", name, self.names(), "--tasks")
                )

        for n in names:
            visit(n, ())
        return tasks, groups


def _same_file(a: str | None, b: str | None) -> bool:
    return a == b or (a is not None and b is not None and Path(a).resolve() == Path(b).resolve())


def load_catalog(include_paths: Iterable[Path | str] = ()) -> Catalog:
    cat = Catalog()
    cat.add_dir(bundled_tasks_dir())
    for name in registry.names("tasks"):
        obj = registry.get("tasks", name)
        cat.add_dir(Path(obj() if callable(obj) else obj))
    for p in include_paths:
        p = Path(p)
        if not p.is_dir():
            raise TaskSpecError(f"--include-path {p}: not a folder of task YAML files")
        cat.add_dir(p)
    return cat
