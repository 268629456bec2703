"""``eval-anything view RUN_DIR...``: the leaderboard over run folders without a store.

Run folders are real ones (``results.json`` + ``samples/``) written by the synthetic-run helper;
the app is rendered with AppTest over the store the viewer builds, and the command itself is
served on 127.0.0.1 and stopped by its pid."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from server_process import (
    assert_port_closed,
    child_pids,
    free_port,
    gone,
    http_get,
    wait_for_health,
)
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.leaderboard.settings import VIEW_RUNS_ENV
from eval_anything.store import STORE_ENV, open_store, queries
from eval_anything.store.run_folders import fill_store, find_runs
from eval_anything.store.synthetic import binary_run

APP = str(Path(__file__).resolve().parent.parent / "leaderboard" / "app.py")
CLI = "from eval_anything.cli import main; main()"


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """runs/: two models, two checkpoints of a training run under a nested folder, an
    unfinished run and a folder that is no run."""
    root = tmp_path / "runs"
    binary_run(root / "alpha-1", "run-alpha", {"qa": [1, 1, 0, 1]}, model_name="alpha")
    binary_run(root / "beta-1", "run-beta", {"qa": [0, 1, 0, 0]}, model_name="beta")
    for step in (10, 20):
        binary_run(root / "train" / "autoscore" / f"checkpoint-{step}", f"run-ckpt{step}",
                   {"qa": [1, 0, 1, 0]}, model_name="policy", training_run_id="dpo-x",
                   step=step)
    (root / "killed" / "samples").mkdir(parents=True)
    (root / "killed" / "samples" / "qa.jsonl").write_text("")
    (root / "notes").mkdir()
    (root / "notes" / "todo.txt").write_text("not a run")
    return root


def _refused(found: object) -> dict[str, str]:
    return {Path(what).name: why for what, why in found.refused}  # type: ignore[attr-defined]


def test_globs_and_parent_folders_find_every_run_and_name_the_rest(runs: Path) -> None:
    found = find_runs([str(runs / "*"), str(runs / "alpha-1"), str(runs / "nope*")])
    ids = sorted(r.run_id for r in found.runs.values())
    assert ids == ["run-alpha", "run-beta", "run-ckpt10", "run-ckpt20"]  # alpha-1 once
    refused = _refused(found)
    assert set(refused) == {"killed", "notes", "nope*"}
    assert "unfinished run" in refused["killed"] and "rerun" in refused["killed"]
    assert "no results.json" in refused["notes"]
    assert "matches nothing" in refused["nope*"]


def test_a_corrupt_run_and_a_copied_run_are_named_not_dropped(runs: Path) -> None:
    shutil.copytree(runs / "beta-1", runs / "beta-copy")
    (runs / "alpha-1" / "results.json").write_text('{"schema_version": 1, "run_id": ')
    found = find_runs([str(runs / "alpha-1"), str(runs / "beta-1"), str(runs / "beta-copy")])
    assert [r.run_id for r in found.runs.values()] == ["run-beta"]
    refused = _refused(found)
    assert "not valid JSON" in refused["alpha-1"] and "results.json" in refused["alpha-1"]
    assert "run-beta" in refused["beta-copy"] and "beta-1" in refused["beta-copy"]


def test_the_store_it_builds_holds_every_run_and_the_app_renders_it(
    runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = find_runs([str(runs)])
    url = f"sqlite:///{tmp_path / 'view.sqlite'}"
    with open_store(url) as store:
        assert sorted(fill_store(found, store)) == sorted(r.run_id for r in found.runs.values())
        rows = queries.leaderboard_rows(store)
    assert set(rows["run_id"]) == {"run-alpha", "run-beta", "run-ckpt10", "run-ckpt20"}
    assert set(rows.loc[rows["run_id"] == "run-ckpt20", "training_run_id"]) == {"dpo-x"}
    monkeypatch.setenv(STORE_ENV, url)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(str(v) for df in at.dataframe for v in df.value.to_numpy().ravel())
    for model in ("alpha", "beta", "policy"):
        assert model in shown


def test_no_run_at_all_exits_2_naming_each_argument(runs: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.sqlite"
    result = CliRunner().invoke(
        app, ["view", str(runs / "notes"), str(runs / "killed"), str(tmp_path / "missing"),
              "--save-store", str(kept)],
    )
    assert result.exit_code == 2
    for name in ("notes", "killed", "missing"):
        assert name in result.output
    assert "no run folder among" in result.output
    assert not kept.exists()  # nothing written


def test_save_store_refuses_an_existing_file(runs: Path, tmp_path: Path) -> None:
    existing = tmp_path / "old.sqlite"
    existing.write_text("")
    result = CliRunner().invoke(app, ["view", str(runs), "--save-store", str(existing)])
    assert result.exit_code == 2 and "exists" in result.output


@pytest.mark.slow
def test_view_serves_the_runs_and_stops_with_its_server(runs: Path, tmp_path: Path) -> None:
    port = free_port()
    kept = tmp_path / "kept.sqlite"
    cmd = [sys.executable, "-c", CLI, "view", str(runs / "*"), "--port",
           str(port), "--save-store", str(kept)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_health(port, proc)
        assert http_get(port, "/").startswith("<!")  # the app's page
        servers = child_pids(proc.pid)
        assert servers, "the Streamlit server runs as a child of the command"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "not shown:" in out and "killed" in out and "notes" in out
    assert "4 run(s)" in out
    assert_port_closed(port)
    assert all(gone(pid) for pid in servers)
    with open_store(f"sqlite:///{kept}") as store:
        assert len(queries.leaderboard_rows(store)["run_id"].unique()) == 4


def test_view_shows_every_run_it_names_and_counts_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three runs, two of them the same model scored twice on the same items (a rerun): the
    board of a store shows the newer one only, but ``view A B C`` names three and shows three."""
    root = tmp_path / "three"
    binary_run(root / "a", "run-a-first", {"qa": [1, 0, 1, 0]}, model_name="alpha",
               created_at="2026-01-01T00:01:00+00:00")
    binary_run(root / "b", "run-a-again", {"qa": [1, 1, 1, 0]}, model_name="alpha",
               created_at="2026-01-01T00:02:00+00:00")
    binary_run(root / "c", "run-beta", {"qa": [0, 1, 0, 0]}, model_name="beta",
               created_at="2026-01-01T00:03:00+00:00")
    kept = tmp_path / "kept.sqlite"
    served: dict[str, object] = {}

    def fake_serve(cmd: list[str], env: dict[str, str] | None = None) -> int:
        served.update(cmd=cmd, env=env)
        return 0

    monkeypatch.setattr("eval_anything.cli.view.serve", fake_serve)
    result = CliRunner().invoke(app, ["view", str(root / "a"), str(root / "b"), str(root / "c"),
                                      "--save-store", str(kept)])
    assert result.exit_code == 0, result.output
    assert "3 run(s) from 3 argument(s); 0 not shown" in result.output
    env = served["env"]
    assert isinstance(env, dict)
    named = sorted(env[VIEW_RUNS_ENV].split(","))
    assert named == ["run-a-again", "run-a-first", "run-beta"]

    def board_run_ids(view_runs: str | None) -> set[str]:
        monkeypatch.setenv(STORE_ENV, f"sqlite:///{kept}")
        if view_runs is None:
            monkeypatch.delenv(VIEW_RUNS_ENV, raising=False)
        else:
            monkeypatch.setenv(VIEW_RUNS_ENV, view_runs)
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return {str(v)[:8] for df in at.dataframe if "run_id" in df.value.columns
                for v in df.value["run_id"]}  # the board may show a run id's first characters

    # every named run, as counted
    assert board_run_ids(env[VIEW_RUNS_ENV]) == {r[:8] for r in named}
    assert board_run_ids(None) == {"run-a-ag", "run-beta"}  # a store: the latest per model
