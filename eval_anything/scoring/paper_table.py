"""The Align Anything paper's results-table layout, for our runs and for the published rows.

One row per model: AMU by category (P, R, IF, S), AMU, Modality Select, instruction following
T, V, A (0-10), synergy T-V, T-A, V-A (0-1), AMG and Overall. A run's row is read from its
``overall`` group (AMU, its categories, AMG, Overall) and its ``s_amg`` group (Select, T/V/A and
the synergy pairs), so it works for ``eval-anything`` and ``eval-anything-mini`` alike. The
paper's seven rows ship as data (``tasks/eval_anything/paper_results.json``, source named in
the file) so a user can put their model beside them. Pure functions: the CLI's ``report`` and
the leaderboard's paper view both render these rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from eval_anything.errors import UserError
from eval_anything.stats.intervals import MetricValue

# (key, header, where a run keeps it: (aggregation, metric))
COLUMNS: tuple[tuple[str, str, tuple[str, str]], ...] = (
    ("perception", "P", ("overall", "amu/perception")),
    ("reasoning", "R", ("overall", "amu/reasoning")),
    ("instruction-following", "IF", ("overall", "amu/instruction-following")),
    ("safety", "S", ("overall", "amu/safety")),
    ("amu", "AMU", ("overall", "amu")),
    ("select", "Select", ("s_amg", "select")),
    ("if_t", "T", ("s_amg", "if/t")),
    ("if_i", "V", ("s_amg", "if/i")),
    ("if_a", "A", ("s_amg", "if/a")),
    ("synergy_ti", "T-V", ("s_amg", "synergy/ti")),
    ("synergy_ta", "T-A", ("s_amg", "synergy/ta")),
    ("synergy_ia", "V-A", ("s_amg", "synergy/ia")),
    ("amg", "AMG", ("s_amg", "s_amg")),
    ("overall", "Overall", ("overall", "overall")),
)
HEADERS = {key: header for key, header, _ in COLUMNS}
PAPER_FILE = ("eval_anything", "paper_results.json")


class PaperLayoutError(UserError):
    """A run that holds none of the paper's scores; the message names the run and the fix."""


@dataclass
class PaperRow:
    """One table row: ``model``, where it comes from (``paper`` or a run id), and the cells."""

    model: str
    origin: str
    cells: dict[str, MetricValue | None] = field(default_factory=dict)

    def value(self, key: str) -> float | None:
        cell = self.cells.get(key)
        return None if cell is None else cell.value


@dataclass(frozen=True)
class PaperReference:
    source: str
    note: str
    rows: tuple[PaperRow, ...]


@lru_cache(maxsize=1)
def paper_reference() -> PaperReference:
    """The published rows, read from the bundled data file."""
    from eval_anything.spec.catalog import bundled_tasks_dir

    path = bundled_tasks_dir().joinpath(*PAPER_FILE)
    raw = json.loads(path.read_text(encoding="utf-8"))
    rows = tuple(
        PaperRow(model=r["model"], origin="paper",
                 cells={key: MetricValue(value=float(r[key])) for key in HEADERS})
        for r in raw["rows"]
    )
    return PaperReference(source=str(raw["source"]), note=str(raw.get("note", "")), rows=rows)


def _group_by_aggregation(results: Any) -> dict[str, Any]:
    """The first group of each aggregation kind in the run (``overall``, ``s_amg``)."""
    found: dict[str, Any] = {}
    for gr in results.groups.values():
        found.setdefault(gr.aggregation, gr)
    return found


def run_row(results: Any, where: str | None = None) -> PaperRow:
    """The paper-layout row of one run (a :class:`~eval_anything.core.results.Results`). Columns the
    run did not score stay empty (None); a run with none of them is an error."""
    groups = _group_by_aggregation(results)
    cells: dict[str, MetricValue | None] = {}
    for key, _header, (aggregation, metric) in COLUMNS:
        gr = groups.get(aggregation)
        cells[key] = None if gr is None else gr.metrics.get(metric)
    if all(v is None for v in cells.values()):
        label = where or f"run {results.run_id}"
        raise PaperLayoutError(
            f"{label}: holds no eval-anything scores (no group aggregated by 'overall' or "
            "'s_amg'); run it with --tasks eval-anything (or eval-anything-mini) to get the "
            "paper's columns"
        )
    name = results.model.name
    if results.lineage is not None:
        name += f" @ step {results.lineage.step}"
    return PaperRow(model=name, origin=results.run_id, cells=cells)


def format_cell(cell: MetricValue | None, key: str, with_ci: bool = True) -> str:
    """``3.87`` (paper precision: 3 digits for Select, 2 for the rest) and, when known, the 95%
    CI's half-width as ``3.87 ±0.12`` (the interval is symmetric: normal, delta method)."""
    if cell is None:
        return "-"
    digits = 3 if key == "select" else 2
    text = f"{cell.value:.{digits}f}"
    if with_ci and cell.ci_low is not None and cell.ci_high is not None:
        text += f" ±{(cell.ci_high - cell.ci_low) / 2:.{digits}f}"
    return text


def rows_as_records(rows: list[PaperRow], with_ci: bool = True) -> list[dict[str, Any]]:
    """Rows as flat dicts (model, origin, one text cell per header), for tables and frames."""
    return [
        {"model": r.model, "origin": r.origin,
         **{HEADERS[k]: format_cell(r.cells.get(k), k, with_ci) for k in HEADERS}}
        for r in rows
    ]


def rows_as_json(rows: list[PaperRow]) -> list[dict[str, Any]]:
    """Rows with each cell as ``{value, stderr, ci_low, ci_high, n}`` (None when not scored)."""
    return [
        {"model": r.model, "origin": r.origin,
         "scores": {k: (None if c is None else c.model_dump(mode="json"))
                    for k, c in r.cells.items()}}
        for r in rows
    ]
