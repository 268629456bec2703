"""The gate reads a task's declared direction: for a lower-is-better task a rise is the
regression, for 0/1 and for continuous scores; bundled tasks' directions come from their YAML."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eval_anything.gate.verdict import compare_task, declared_directions, gate
from eval_anything.stats.paired import oriented
from eval_anything.store.synthetic import binary_run, make_records


def test_oriented_keeps_binary_scores_binary() -> None:
    assert oriented([0.0, 1.0], [1.0, 1.0], higher_is_better=False) == ([1.0, 0.0], [0.0, 0.0])
    assert oriented([0.2, 3.0], [0.5, 1.0], higher_is_better=False) == ([-0.2, -3.0], [-0.5, -1.0])
    assert oriented([0.2], [0.5]) == ([0.2], [0.5])


def test_a_rise_in_a_loss_is_a_regression() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(1.0, 2.0, 300)
    worse = (base + 0.3).tolist()  # loss went up by 0.3 on every item
    b, c = make_records("loss", base.tolist()), make_records("loss", worse)
    as_loss = compare_task("loss", "acc", b, c, margin=0.01, higher_is_better=False)
    assert as_loss.diff < -0.29 and as_loss.p_value < 0.01
    assert as_loss.baseline_mean < as_loss.candidate_mean  # means stay in raw units
    assert any("lower is better" in n for n in as_loss.notes)
    as_score = compare_task("loss", "acc", b, c, margin=0.01)  # read the wrong way round
    assert as_score.diff > 0.29 and as_score.p_value > 0.5


def test_gate_fails_a_rising_error_rate_only_when_declared(tmp_path: Path) -> None:
    errors = (np.random.default_rng(1).random(400) < 0.2).astype(float)
    more = errors.copy()
    more[np.flatnonzero(errors == 0.0)[:60]] = 1.0  # 15 more points of errors
    base = binary_run(tmp_path / "b", "b-run", {"err": errors.tolist()})
    cand = binary_run(tmp_path / "c", "c-run", {"err": more.tolist()})
    declared = gate(base, cand, directions={"err": False})
    assert declared.verdict == "FAIL" and not declared.tasks[0].higher_is_better
    assert declared.tasks[0].method.startswith("McNemar")
    assert gate(base, cand, directions={}).verdict == "PASS"  # undeclared: higher is better


def test_bundled_tasks_declare_their_direction() -> None:
    directions = declared_directions()
    for task in ("amu", "amg_modality_selection", "mini_amu", "starter_mc", "eval-anything"):
        assert directions[task] is True


def test_every_bundled_task_declares_a_scale_outside_its_fingerprint() -> None:
    from eval_anything.spec.catalog import load_catalog

    catalog = load_catalog()
    assert all(spec.scale is not None for spec in catalog.tasks.values())
    amu = catalog.tasks["amu"]
    assert amu.scale is not None and amu.scale.label() == "1-10"
    assert amu.model_copy(update={"scale": None}).spec_hash() == amu.spec_hash()
