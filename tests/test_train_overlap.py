"""``train`` checks its training data against its auto-score tasks before the first step: the
report goes with the training run (``overlap.json``), every scored checkpoint's results carry
the count, the leaderboard marks the score and the gate notes it; ``--exclude-overlap`` drops
exactly the overlapping rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval_anything.core.results import TaskResult, TrainOverlap
from eval_anything.trainers.config import load_train_config
from eval_anything.trainers.demo.bundled_data import data_file

FEEDBACK = data_file().parent / "feedback.jsonl"
TASK = "starter_gen"
#: the first two items of starter_gen (the auto-score limit is 2)
ITEM_0 = "What is 4 + 1?"
ITEM_1 = "What is 9 + 8?"
ITEM_2 = "What is 8 + 3?"  # the third item: outside the limit, so never flagged
#: rows planted among unrelated ones: exact, inside a longer text, and beyond the limit
PLANTED = {1: ITEM_0, 4: f"Please work this out for me. {ITEM_1} Show every step.",
           5: ITEM_2}
OVERLAPPING = [1, 4]


def _training_file(tmp_path: Path) -> Path:
    rows = [json.loads(line) for line in FEEDBACK.read_text(encoding="utf-8").splitlines()[:8]]
    for i, prompt in PLANTED.items():
        rows[i]["prompt"] = prompt
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _cfg(tmp_path: Path, data: Path, model: str = "unused", **extra):  # type: ignore[no-untyped-def]
    return load_train_config(None, "sft", {
        "model.path": model, "data.train": str(data), "data.format": "feedback",
        "training.output_dir": str(tmp_path / "out"), "autoscore.tasks": [TASK],
        "autoscore.limit": 2, **extra,
    })


def test_check_finds_the_planted_rows_and_exclusion_drops_exactly_them(tmp_path: Path) -> None:
    from eval_anything.trainers.data.loading import load_completions
    from eval_anything.trainers.setup.train_overlap import check_training_overlap, without_overlap

    data = _training_file(tmp_path)
    overlap = check_training_overlap(_cfg(tmp_path, data))
    assert overlap is not None and not overlap.exclude_overlap
    assert overlap.flagged_ids(TASK) == {"gen-0000", "gen-0001"}
    assert overlap.overlapping_rows == OVERLAPPING
    assert overlap.rows_by_task == {TASK: 2}
    assert overlap.summary(TASK, "r.json") == TrainOverlap(flagged=2, n=2, report="r.json")
    # without exclusion every row trains
    kept = without_overlap(_cfg(tmp_path, data), overlap)
    assert len(load_completions(kept)) == 8

    cfg = _cfg(tmp_path, data, **{"data.exclude_overlap": True})
    overlap = check_training_overlap(cfg)
    assert overlap is not None and overlap.exclude_overlap
    assert overlap.summary(TASK, None) == TrainOverlap(flagged=0, n=2, dropped_rows=2)
    completions = load_completions(without_overlap(cfg, overlap))
    every = load_completions(cfg)
    assert completions == [c for i, c in enumerate(every) if i not in OVERLAPPING]
    assert ITEM_2 in json.dumps([str(c) for c in completions])  # the unflagged plant stays


def test_no_autoscore_tasks_no_check(tmp_path: Path) -> None:
    from eval_anything.trainers.setup.train_overlap import check_training_overlap

    cfg = _cfg(tmp_path, _training_file(tmp_path), **{"autoscore.tasks": []})
    assert check_training_overlap(cfg) is None


def test_old_results_read_without_the_field() -> None:
    raw = {"task": "t", "task_version": "1", "task_fingerprint": "f", "n": 3}
    assert TaskResult.model_validate(raw).train_overlap is None
    assert TrainOverlap(flagged=3, n=24).label() == "⚠ overlap 3/24"
    assert TrainOverlap(flagged=0, n=24, dropped_rows=3).label() == ""


def _train(tmp_path: Path, model: Path, data: Path, out: Path, store: Path,
           *extra: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from eval_anything.cli import app

    result = CliRunner().invoke(app, [
        "train", "sft", "--model", str(model), "--data", str(data), "--format", "feedback",
        "--output-dir", str(out), "--max-steps", "1", "--save-steps", "1", "--batch-size", "2",
        "--precision", "fp32", "--tasks", TASK, "--limit", "2", "--store", str(store),
        "--set", "training.trl.disable_tqdm=true", *extra,
    ])
    return result.exit_code, result.output


@pytest.mark.slow
def test_train_records_overlap_and_leaderboard_and_gate_show_it(
    tmp_path: Path, tiny_llama: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch
    from streamlit.testing.v1 import AppTest

    from eval_anything.core.results_files import read_results
    from eval_anything.gate.report import to_markdown, to_table
    from eval_anything.gate.verdict import gate
    from eval_anything.store import STORE_ENV, open_store
    from eval_anything.store.queries import load_results

    torch.set_num_threads(1)
    data = _training_file(tmp_path)
    out, store = tmp_path / "out", tmp_path / "store.db"
    code, output = _train(tmp_path, tiny_llama, data, out, store)
    assert code == 0, output
    report_path = out / "overlap.json"
    assert (f"overlap: 2 of 2 items of {TASK} appear in the training data (see {report_path})"
            in output)
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["overlapping_rows"] == OVERLAPPING and not report["exclude_overlap"]
    assert {f["sample_id"] for f in report["tasks"][TASK]["flagged"]} == {"gen-0000", "gen-0001"}

    run_dir = out / "autoscore" / "checkpoint-1"
    results = read_results(run_dir)
    assert results.lineage is not None and results.lineage.step == 1
    expected = TrainOverlap(flagged=2, n=2, report=str(report_path))
    assert results.tasks[TASK].train_overlap == expected
    stored = load_results(open_store(f"sqlite:///{store}"), results.run_id)
    assert stored.tasks[TASK].train_overlap == expected

    # the leaderboard marks the score, on the board and in the drilldown
    monkeypatch.setenv(STORE_ENV, str(store))
    app_file = str(Path(__file__).resolve().parent.parent / "leaderboard" / "app.py")
    at = AppTest.from_file(app_file, default_timeout=60).run()
    assert not at.exception, at.exception
    marks = [list(df.value["overlap"]) for df in at.dataframe if "overlap" in df.value.columns]
    assert ["⚠ overlap 2/2"] in marks
    at.sidebar.radio(key="view").set_value("Task drilldown").run()
    assert not at.exception, at.exception
    at.selectbox(key="dd_task").set_value(TASK).run()
    drill = [list(df.value["overlap"]) for df in at.dataframe if "overlap" in df.value.columns]
    assert drill == [["⚠ overlap 2/2"]]

    # the gate notes it (the verdict itself is unchanged)
    verdict = gate(run_dir, run_dir)
    note = "train overlap: 2 of 2 items appear in the candidate's training data"
    assert note in to_table(verdict) and note in to_markdown(verdict)
    assert "baseline's training data" in to_table(verdict)


@pytest.mark.slow
def test_exclude_overlap_drops_the_rows_and_the_scores_are_clean(
    tmp_path: Path, tiny_llama: Path,
) -> None:
    import torch

    from eval_anything.core.results_files import read_results

    torch.set_num_threads(1)
    out = tmp_path / "out"
    code, output = _train(tmp_path, tiny_llama, _training_file(tmp_path), out,
                          tmp_path / "store.db", "--exclude-overlap")
    assert code == 0, output
    assert f"overlap: dropped 2 training rows that contain items of {TASK}" in output
    report = json.loads((out / "overlap.json").read_text(encoding="utf-8"))
    assert report["exclude_overlap"] and report["overlapping_rows"] == OVERLAPPING
    overlap = read_results(out / "autoscore" / "checkpoint-1").tasks[TASK].train_overlap
    assert overlap == TrainOverlap(flagged=0, n=2, dropped_rows=2,
                                   report=str(out / "overlap.json"))


def test_score_worker_attaches_the_report_beside_the_checkpoints(tmp_path: Path) -> None:
    """What ``watch`` relies on: a run of a checkpoint whose folder holds ``overlap.json``
    carries the count; one whose folder holds none is left as it was."""
    from eval_anything.core.results_files import read_results
    from eval_anything.run.runner import evaluate
    from eval_anything.trainers.autoscore.score_worker import attach_train_overlap
    from eval_anything.trainers.setup.train_overlap import (
        check_training_overlap,
        write_training_overlap,
    )

    cfg = _cfg(tmp_path, _training_file(tmp_path))
    overlap = check_training_overlap(cfg)
    assert overlap is not None
    report = write_training_overlap(cfg, overlap)
    run_dir = tmp_path / "run"
    evaluate(model="scripted", model_args={"default": "5"}, tasks=[TASK], limit=2,
             output_dir=run_dir, cache_path=False, progress=False)
    assert not attach_train_overlap(run_dir, tmp_path / "elsewhere")
    assert read_results(run_dir).tasks[TASK].train_overlap is None
    assert attach_train_overlap(run_dir, cfg.output_dir)
    assert read_results(run_dir).tasks[TASK].train_overlap == TrainOverlap(
        flagged=2, n=2, report=str(report))
