from __future__ import annotations

import math

import pytest

from eval_anything.core.results import SampleRecord, ScoreRecord
from eval_anything.stats.intervals import Z95, clustered_stderr_of_mean, mean_of_means, mean_with_ci


def test_plain_stderr_and_ci_by_hand() -> None:
    x = [1.0, 0.0, 1.0, 1.0]
    mv = mean_with_ci(x)
    sd = math.sqrt(sum((v - 0.75) ** 2 for v in x) / 3)
    assert mv.value == 0.75
    assert mv.stderr == pytest.approx(sd / 2)
    assert mv.ci_low == pytest.approx(0.75 - Z95 * sd / 2)
    assert not mv.clustered and mv.n == 4


def test_clustered_stderr_by_hand() -> None:
    x = [1.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    c = ["a", "a", "b", "b", "c", "c"]
    # residuals from mean 0.5: cluster sums a=+1, b=-1, c=0 -> sum of squares 2
    expected = math.sqrt(3 / 2 * 2.0) / 6
    assert clustered_stderr_of_mean(x, c) == pytest.approx(expected)
    mv = mean_with_ci(x, c)
    assert mv.clustered and mv.stderr == pytest.approx(expected)
    # perfectly correlated clusters give a larger SE than treating items as independent
    assert mv.stderr > mean_with_ci(x).stderr  # type: ignore[operator]


def test_singletons_without_cluster_keys_fall_back_to_plain() -> None:
    assert not mean_with_ci([1.0, 0.0], [None, None]).clustered


def test_mean_of_means() -> None:
    a, b = mean_with_ci([1.0, 0.0]), mean_with_ci([1.0, 1.0, 1.0, 0.0])
    m = mean_of_means([a, b])
    assert m.value == pytest.approx((0.5 + 0.75) / 2)
    assert m.stderr == pytest.approx(math.sqrt(a.stderr**2 + b.stderr**2) / 2)  # type: ignore[operator]


def test_mean_by_metric_and_unscored_are_excluded() -> None:
    from eval_anything.run.reduce import task_metrics
    from eval_anything.spec.task import MetricRef, TaskSpec

    spec = TaskSpec.model_validate({
        "task": "t", "source": {"jsonl": "x.jsonl"}, "scorers": [{"name": "exact_match"}],
        "metrics": [{"name": "mean_by", "score": "rating", "args": {"field": "dim"}}],
    })
    assert isinstance(spec.metrics[0], MetricRef)
    rows = [("p", 4.0), ("p", 6.0), ("r", 8.0), ("r", None), ("s", 2.0)]
    recs = [
        SampleRecord(sample_id=str(i), input_ref="", prompt_hash="", metadata={"dim": d},
                     scores={"rating": ScoreRecord(value=v)})
        for i, (d, v) in enumerate(rows)
    ]
    metrics, unscored = task_metrics(spec, recs)
    assert metrics["rating/p"].value == 5.0
    assert metrics["rating/r"].value == 8.0 and metrics["rating/r"].n == 1
    assert metrics["rating/all"].value == pytest.approx((5 + 8 + 2) / 3)
    assert unscored == {"rating": 1}
