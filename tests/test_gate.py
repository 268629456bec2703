"""The gate on constructed runs whose answer is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eval_anything.core.results import JudgeInfo
from eval_anything.core.results_files import read_results, write_results
from eval_anything.gate.verdict import GateInputError, gate
from eval_anything.store.synthetic import (
    binary_run,
    make_records,
    make_results,
    task_result_of,
    write_run,
)


def _drop(base: np.ndarray, n_drop: int) -> np.ndarray:
    cand = base.copy()
    cand[np.flatnonzero(base == 1.0)[:n_drop]] = 0.0
    return cand


@pytest.fixture
def base_2000() -> np.ndarray:
    return (np.random.default_rng(0).random(2000) < 0.7).astype(float)


def test_identical_runs_pass(tmp_path: Path, base_2000: np.ndarray) -> None:
    vals = {"a": base_2000.tolist(), "b": base_2000[:300].tolist()}
    base, cand = binary_run(tmp_path / "b", "base", vals), binary_run(tmp_path / "c", "cand", vals)
    report = gate(base, cand)
    assert report.verdict == "PASS" and report.exit_code() == 0
    assert [t.verdict for t in report.tasks] == ["PASS", "PASS"]
    assert all(t.diff == 0.0 and t.ci_low == 0.0 for t in report.tasks)


def test_planted_five_point_drop_on_2000_binary_items_fails(
    tmp_path: Path, base_2000: np.ndarray
) -> None:
    cand = _drop(base_2000, 100)  # 100 / 2000 = 5 points
    report = gate(binary_run(tmp_path / "b", "base", {"a": base_2000.tolist()}),
                  binary_run(tmp_path / "c", "cand", {"a": cand.tolist()}))
    (task,) = report.tasks
    assert task.verdict == "FAIL" and report.verdict == "FAIL" and report.exit_code() == 1
    assert task.diff == pytest.approx(-0.05)
    assert (task.regressions, task.improvements) == (100, 0)
    assert task.method.startswith("McNemar")
    assert task.ci_high < -0.01


def test_half_point_drop_on_100_items_is_inconclusive(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    base = rng.uniform(0.0, 1.0, 100)
    noise = rng.normal(0.0, 0.05, 100)
    cand = base + noise - noise.mean() - 0.005  # mean drop exactly half a point
    report = gate(binary_run(tmp_path / "b", "base", {"r": base.tolist()}),
                  binary_run(tmp_path / "c", "cand", {"r": cand.tolist()}))
    (task,) = report.tasks
    assert task.diff == pytest.approx(-0.005)
    assert task.method == "paired bootstrap"
    assert task.verdict == "INCONCLUSIVE" and report.exit_code() == 0
    assert report.exit_code(strict=True) == 1
    assert task.ci_low < -0.01 < task.ci_high


def _counts_run(path: Path, run_id: str, tasks: dict[str, tuple[int, int]], side: str) -> Path:
    """Binary tasks of 1000 items with b regressions and c improvements (candidate side)."""
    values = {}
    for name, (b, c) in tasks.items():
        base = [1.0] * b + [0.0] * c + [1.0] * 500 + [0.0] * (1000 - b - c - 500)
        cand = [0.0] * b + [1.0] * c + [1.0] * 500 + [0.0] * (1000 - b - c - 500)
        values[name] = base if side == "base" else cand
    return binary_run(path, run_id, values)


def test_holm_correction_is_applied_across_tasks(tmp_path: Path) -> None:
    tasks = {"t1": (18, 8), "t2": (18, 8)}  # each alone: p = 0.038 (McNemar exact) < 0.05
    base = _counts_run(tmp_path / "b", "base", tasks, "base")
    cand = _counts_run(tmp_path / "c", "cand", tasks, "cand")
    alone = gate(base, cand, tasks=["t1"], margin=0.0)
    assert alone.tasks[0].p_value == pytest.approx(0.03775934875, rel=1e-6)
    assert alone.verdict == "FAIL"
    both = gate(base, cand, margin=0.0)
    for t in both.tasks:
        assert t.p_value < 0.05 < t.p_holm
        assert t.p_holm == pytest.approx(2 * t.p_value)
        assert t.verdict == "INCONCLUSIVE"


def test_clustered_binary_task_uses_cluster_robust_se(tmp_path: Path) -> None:
    clusters = ["a", "a", "b", "b", "c", "c"]
    for side, vals in (("b", [1, 0, 1, 0, 1, 0]), ("c", [0, 0, 0, 1, 1, 0])):
        records = {"t": make_records("t", vals, clusters=clusters)}
        res = make_results(side, {"t": task_result_of("t", records["t"], cluster_key="group")})
        write_run(tmp_path / side, res, records)
    (task,) = gate(tmp_path / "b", tmp_path / "c").tasks
    assert task.clustered and task.n_clusters == 3
    assert task.stderr == pytest.approx(1 / 6)  # hand-computed CR1 (see test_paired)
    assert task.method == "clustered paired z"


def test_differing_fingerprints_are_refused_unless_forced(tmp_path: Path) -> None:
    base = binary_run(tmp_path / "b", "base", {"a": [1, 0, 1, 1]})
    cand = binary_run(tmp_path / "c", "cand", {"a": [1, 0, 1, 1]})
    res = read_results(cand)
    res.tasks["a"].task_fingerprint = "f" * 64
    write_results(cand, res)
    with pytest.raises(GateInputError, match="task_fingerprint differs"):
        gate(base, cand)
    forced = gate(base, cand, force=True)
    assert forced.forced and any("task_fingerprint" in w for w in forced.warnings)


def test_differing_judges_are_refused(tmp_path: Path) -> None:
    base = binary_run(tmp_path / "b", "base", {"a": [1, 0, 1, 1]})
    cand = binary_run(tmp_path / "c", "cand", {"a": [1, 0, 1, 1]})
    for run, ident in ((base, "llm:hf:aaa"), (cand, "llm:hf:bbb")):
        res = read_results(run)
        res.tasks["a"].judges = [JudgeInfo(role="judge", identity=ident, template_hash="t")]
        write_results(run, res)
    with pytest.raises(GateInputError, match="judges differ"):
        gate(base, cand)


def test_items_are_matched_by_sample_id(tmp_path: Path) -> None:
    base = binary_run(tmp_path / "b", "base", {"a": [1, 1, 1, 0, None]})
    cand = binary_run(tmp_path / "c", "cand", {"a": [1, 1, 1]})
    (task,) = gate(base, cand).tasks
    assert task.n_pairs == 3 and task.n_only_baseline == 2 and task.n_only_candidate == 0


def test_bad_requests_are_input_errors(tmp_path: Path) -> None:
    base = binary_run(tmp_path / "b", "base", {"a": [1, 0]})
    other = binary_run(tmp_path / "c", "cand", {"z": [1, 0]})
    with pytest.raises(GateInputError, match="share no task"):
        gate(base, other)
    with pytest.raises(GateInputError, match="--tasks"):
        gate(base, base, tasks=["nope"])
    with pytest.raises(GateInputError, match="margin"):
        gate(base, base, margin=-1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(GateInputError, match="no results.json"):
        gate(tmp_path / "empty", base)
