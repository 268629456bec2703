"""Descriptions of the task catalog for `eval-anything tasks` and the leaderboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from eval_anything import registry
from eval_anything.spec.catalog import load_catalog
from eval_anything.spec.sources import load_samples


@dataclass
class TaskRow:
    name: str
    groups: list[str]
    request: str
    input_modalities: list[str]
    output_modalities: list[str]
    n: int | None
    roles: dict[str, str] = field(default_factory=dict)
    source: str = ""
    description: str = ""


def describe_tasks(
    include_paths: list[Path], count: bool = True
) -> tuple[list[TaskRow], dict[str, list[str]]]:
    cat = load_catalog(include_paths)
    all_groups = [g for g in cat.names() if cat.is_group(g)]
    member_of = {t: [g for g in all_groups if t in cat.group_members(g)] for t in cat.tasks}
    rows = []
    for name in sorted(cat.tasks):
        spec = cat.tasks[name]
        roles: dict[str, str] = {}
        for ref in spec.scorers:
            cls = registry.scorer_class(ref.name)
            needed = cls(**ref.args).required_roles()
            for role in needed:
                roles[role] = spec.judges.get(role, "")
        n = None
        if count and spec.source.jsonl is not None:
            try:
                n = len(load_samples(spec))
            except (OSError, ValueError):
                n = None
        source = spec.source.jsonl or (spec.source.hf.path if spec.source.hf else "")
        rows.append(
            TaskRow(
                name,
                member_of.get(name, []),
                spec.request,
                spec.input_modalities,
                spec.output_modalities,
                n,
                roles,
                str(source),
                spec.description,
            )
        )
    groups = {g: cat.group_members(g) for g in cat.names() if cat.is_group(g)}
    return rows, groups
