"""Data-parallel shards: three shards merged equal one unsharded run; merging refuses shards that
do not belong together (different task fingerprints, different models, overlaps, gaps)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval_anything import evaluate
from eval_anything.core.results_files import read_results, read_sample_records
from eval_anything.models.scripted import ScriptedModel
from eval_anything.run.merge import MergeError, merge_runs

N_ITEMS = 11


def write_task(folder: Path, answers: dict[str, str], extra_row: bool = False) -> Path:
    """A bundled-JSONL task with clustered items (cluster = topic) and a group."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(N_ITEMS + (1 if extra_row else 0)):
        rows.append(
            {
                "id": f"q{i}",
                "question": f"question number {i}",
                "answer": answers.get(f"question number {i}", "yes"),
                "topic": f"t{i % 4}",
            }
        )
    (folder / "data.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (folder / "shardtask.yaml").write_text(
        "task: shardtask\n"
        "groups: [shardgroup]\n"
        "source: {jsonl: data.jsonl}\n"
        "loader: {name: qa, args: {cluster_field: topic}}\n"
        "scorers: [{name: exact_match}]\n"
        "metrics: [{name: mean, score: exact_match}, "
        "{name: mean_by, score: exact_match, args: {field: topic}}]\n"
    )
    (folder / "plain.yaml").write_text(
        "task: plaintask\n"
        "groups: [shardgroup]\n"
        "source: {jsonl: data.jsonl}\n"
        "loader: {name: qa}\n"
        "scorers: [{name: includes}]\n"
    )
    return folder


def scripted(default: str = "no") -> ScriptedModel:
    # every third question answered "yes" (right), the rest get the default
    table = {f"question number {i}": "yes" for i in range(0, N_ITEMS, 3)}
    return ScriptedModel(outputs=table, default=default)


def run(tmp: Path, tasks_dir: Path, name: str, shard: str | None, model: ScriptedModel) -> Path:
    out = tmp / name
    evaluate(
        "scripted",
        ["shardgroup"],
        output_dir=out,
        include_paths=[tasks_dir],
        cache_path=None,
        shard=shard,
        progress=False,
        adapter=model,
        batch_size=2,
    )
    return out


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    return write_task(tmp_path / "tasks", {})


def test_three_shards_merged_equal_unsharded(tmp_path: Path, task_dir: Path) -> None:
    full = read_results(run(tmp_path, task_dir, "full", None, scripted()))
    shards = [run(tmp_path, task_dir, f"s{i}", f"{i}/3", scripted()) for i in range(3)]
    sizes = [read_results(s).tasks["shardtask"].n for s in shards]
    assert sizes == [4, 4, 3]

    merged = merge_runs(shards, tmp_path / "merged", include_paths=[task_dir])
    assert set(merged.tasks) == set(full.tasks)
    for name, tr in full.tasks.items():
        m = merged.tasks[name]
        assert m.n == tr.n == N_ITEMS
        assert m.task_fingerprint == tr.task_fingerprint
        assert set(m.metrics) == set(tr.metrics)
        for key, mv in tr.metrics.items():
            got = m.metrics[key]
            assert got.value == pytest.approx(mv.value, rel=1e-12), key
            assert got.n == mv.n
            assert got.clustered == mv.clustered
            if mv.stderr is None:
                assert got.stderr is None
            else:
                assert got.stderr == pytest.approx(mv.stderr, rel=1e-12), key
        assert m.details["merged_shards"] == ["0/3", "1/3", "2/3"]
    assert full.tasks["shardtask"].metrics["exact_match"].clustered
    assert merged.groups["shardgroup"].metrics["mean"].value == pytest.approx(
        full.groups["shardgroup"].metrics["mean"].value
    )
    assert merged.spec.shard is None
    # records come back in the unsharded order
    order = [r.sample_id for r in read_sample_records(tmp_path / "merged", "shardtask")]
    assert order == [f"q{i}" for i in range(N_ITEMS)]
    # the merged folder is a run folder: the full run resumed into it recomputes nothing
    model = scripted()
    evaluate("scripted", ["shardgroup"], output_dir=tmp_path / "merged", include_paths=[task_dir],
             cache_path=None, progress=False, adapter=model)
    assert model.calls == 0


def test_merge_refuses_different_fingerprints(tmp_path: Path) -> None:
    a_dir = write_task(tmp_path / "a", {})
    b_dir = write_task(tmp_path / "b", {}, extra_row=True)  # one more item: other fingerprint
    s0 = run(tmp_path, a_dir, "s0", "0/2", scripted())
    s1 = run(tmp_path, b_dir, "s1", "1/2", scripted())
    with pytest.raises(MergeError, match="fingerprint"):
        merge_runs([s0, s1], tmp_path / "m", include_paths=[a_dir])


def test_merge_refuses_different_models(tmp_path: Path, task_dir: Path) -> None:
    s0 = run(tmp_path, task_dir, "s0", "0/2", scripted("no"))
    s1 = run(tmp_path, task_dir, "s1", "1/2", scripted("maybe"))
    with pytest.raises(MergeError, match="model identity"):
        merge_runs([s0, s1], tmp_path / "m", include_paths=[task_dir])


def test_merge_refuses_overlap_gap_and_unsharded(tmp_path: Path, task_dir: Path) -> None:
    s0 = run(tmp_path, task_dir, "s0", "0/3", scripted())
    s1 = run(tmp_path, task_dir, "s1", "1/3", scripted())
    with pytest.raises(MergeError, match="missing"):
        merge_runs([s0, s1], tmp_path / "m1", include_paths=[task_dir])
    partial = merge_runs([s0, s1], tmp_path / "m2", include_paths=[task_dir], allow_partial=True)
    assert partial.tasks["shardtask"].n == 8
    with pytest.raises(MergeError, match="twice"):
        merge_runs([s0, s0], tmp_path / "m3", include_paths=[task_dir], allow_partial=True)
    full = run(tmp_path, task_dir, "full", None, scripted())
    with pytest.raises(MergeError, match="not a shard run"):
        merge_runs([full, s0], tmp_path / "m4", include_paths=[task_dir])
    with pytest.raises(MergeError, match="not empty"):
        merge_runs([s0, s1], tmp_path / "m2", include_paths=[task_dir], allow_partial=True)


def test_merge_refuses_changed_task_file(tmp_path: Path, task_dir: Path) -> None:
    shards = [run(tmp_path, task_dir, f"s{i}", f"{i}/2", scripted()) for i in range(2)]
    write_task(task_dir, {}, extra_row=True)  # the task changed after the shards ran
    with pytest.raises(MergeError, match="now has fingerprint"):
        merge_runs(shards, tmp_path / "m", include_paths=[task_dir])


def test_merge_cli(tmp_path: Path, task_dir: Path) -> None:
    import typer

    from eval_anything.cli.merge import register

    app = typer.Typer()
    app.callback()(lambda: None)  # a command group even while merge is its only command
    register(app)
    shards = [run(tmp_path, task_dir, f"s{i}", f"{i}/2", scripted()) for i in range(2)]
    out = tmp_path / "merged"
    args = ["merge", *map(str, shards), "--output-dir", str(out), "--include-path", str(task_dir)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "merged 2 shards" in res.output
    assert read_results(out).tasks["shardtask"].n == N_ITEMS
    bad = CliRunner().invoke(app, ["merge", str(shards[0]), "--output-dir", str(tmp_path / "x"),
                                   "--include-path", str(task_dir)])
    assert bad.exit_code == 2
    assert "missing" in bad.output
