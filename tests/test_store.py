"""The store on SQLite and on a real PostgreSQL: push, idempotence, updates, queries, media."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from eval_anything.core.content import ImagePart, TextPart
from eval_anything.core.results import GroupResult
from eval_anything.core.results_files import read_results, write_results
from eval_anything.stats.intervals import MetricValue
from eval_anything.store import STORE_ENV, default_store_url, normalize_url, open_store, push
from eval_anything.store import queries as q
from eval_anything.store.synthetic import (
    binary_run,
    make_records,
    make_results,
    task_result_of,
    write_run,
)

pytest_plugins = ["store_support"]  # store_url / pg_url fixtures (SQLite + PostgreSQL)


def test_push_twice_stores_once(store_url: str, tmp_path: Path) -> None:
    run = binary_run(tmp_path / "r", "run-1", {"a": [1, 0, 1], "b": [0, 0, None]})
    assert push(run, store_url) == "run-1"
    assert push(run, store_url) == "run-1"
    with open_store(store_url) as store:
        assert q.count_runs(store) == 1
        rows = q.leaderboard_rows(store)
        assert sorted(rows["task"]) == ["a", "b"]
        a = rows[rows["task"] == "a"].iloc[0]
        assert a["value"] == pytest.approx(2 / 3) and a["primary_metric"] == "acc"
        assert a["ci_low"] < a["value"] < a["ci_high"]
        records = q.sample_records(store, "run-1", "b")
        assert [r.scores["acc"].value for r in records] == [0.0, 0.0, None]
        scores = q.sample_scores_frame(store, ["run-1"], "b")
        assert len(scores) == 3 and scores["value"].isna().sum() == 1


def test_rescored_run_with_same_id_updates(store_url: str, tmp_path: Path) -> None:
    run = binary_run(tmp_path / "r", "run-1", {"a": [0, 0, 0, 0]})
    push(run, store_url)
    binary_run(tmp_path / "r", "run-1", {"a": [1, 1, 1, 0]})  # re-scored in place
    push(run, store_url)
    with open_store(store_url) as store:
        rows = q.leaderboard_rows(store)
        assert len(rows) == 1 and rows.iloc[0]["value"] == pytest.approx(0.75)
        assert [r.scores["acc"].value for r in q.sample_records(store, "run-1", "a")] == [
            1.0, 1.0, 1.0, 0.0]


def test_lineage_groups_judges_and_results_round_trip(store_url: str, tmp_path: Path) -> None:
    records = {"a": make_records("a", [1, 0, 1, 1], judge="llm:x"),
               "b": make_records("b", [0.5, 0.25], score="rating")}
    tasks = {t: task_result_of(t, r, input_modalities=["text", "image"] if t == "a" else ["text"])
             for t, r in records.items()}
    results = make_results("ckpt-7", tasks, model_name="policy", training_run_id="dpo-1", step=700)
    results.groups["suite"] = GroupResult(group="suite", tasks=["a", "b"], metrics={
        "mean": MetricValue(value=0.5625, stderr=0.1, ci_low=0.3665, ci_high=0.7585, n=6)})
    run = write_run(tmp_path / "r", results, records)
    push(run, store_url)
    with open_store(store_url) as store:
        assert q.load_results(store, "ckpt-7").model_dump() == read_results(run).model_dump()
        runs = q.runs_frame(store)
        assert runs.iloc[0]["training_run_id"] == "dpo-1" and runs.iloc[0]["step"] == 700
        rows = q.leaderboard_rows(store).set_index("task")
        assert rows.loc["suite", "kind"] == "group" and rows.loc["suite", "n"] == 6
        assert rows.loc["suite", "input_modalities"] == "image,text"
        assert rows.loc["b", "primary_metric"] == "rating"
        assert set(q.task_metrics_frame(store, "a")["metric"]) == {"acc"}
        details = q.run_details(store, "ckpt-7")
        assert details["tasks"]["a"]["task_fingerprint"] == results.tasks["a"].task_fingerprint
        assert q.run_tasks(store, "ckpt-7") == ["a", "b"]


def test_media_are_stored_by_content(store_url: str, tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (255, 0, 0)).save(buf, format="PNG")
    run_dir = tmp_path / "r"
    (run_dir / "media").mkdir(parents=True)
    (run_dir / "media" / "out.png").write_bytes(buf.getvalue())
    records = make_records("gen", [1.0])
    records[0] = records[0].model_copy(update={
        "output": [TextPart(text="here"), ImagePart(path="media/out.png", mime="image/png")]})
    write_run(run_dir, make_results("img-run", {"gen": task_result_of("gen", records)}),
              {"gen": records})
    push(run_dir, store_url)
    push(run_dir, store_url)
    with open_store(store_url) as store:
        blob = q.media_bytes(store, "img-run", "media/out.png")
        assert blob == (buf.getvalue(), "image/png")
        assert q.media_bytes(store, "img-run", "media/missing.png") is None


def test_run_ids_resolve_by_unique_prefix(store_url: str, tmp_path: Path) -> None:
    for rid in ("abc111", "abc222"):
        push(binary_run(tmp_path / rid, rid, {"a": [1, 0]}), store_url)
    with open_store(store_url) as store:
        assert q.resolve_run_id(store, "abc1") == "abc111"
        assert q.resolve_run_id(store, "abc") is None  # ambiguous
        assert q.resolve_run_id(store, "zzz") is None
        with pytest.raises(KeyError):
            q.load_results(store, "zzz")


def test_duplicate_sample_ids_are_named(tmp_path: Path) -> None:
    from eval_anything.store import ingest

    records = make_records("a", [1, 0])
    records[1] = records[1].model_copy(update={"sample_id": records[0].sample_id})
    results = make_results("dup", {"a": task_result_of("a", records)})
    with open_store(str(tmp_path / "s.sqlite")) as store, pytest.raises(
        ValueError, match="sample_id 'a-0000' twice"
    ):
        ingest(store, results, {"a": records})


def test_results_with_a_newer_schema_are_refused(tmp_path: Path) -> None:
    run = binary_run(tmp_path / "r", "run-1", {"a": [1]})
    res = read_results(run)
    write_results(run, res.model_copy(update={"schema_version": 99}))
    with pytest.raises(ValueError, match="schema_version 99"):
        push(run, str(tmp_path / "s.sqlite"))


def test_store_url_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(STORE_ENV, raising=False)
    assert default_store_url().endswith(".cache/eval_anything/leaderboard.sqlite")
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "x.sqlite"))
    assert default_store_url() == f"sqlite:///{tmp_path / 'x.sqlite'}"
    assert normalize_url(None) == default_store_url()
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///a.db") == "sqlite:///a.db"


def test_sqlite_store_uses_wal(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "s.sqlite")) as store, store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
