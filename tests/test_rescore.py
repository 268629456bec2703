"""`eval-anything score`: re-judging a finished run writes new scores and makes no generation
call (every model's generate is made to fail while re-judging)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval_anything import evaluate, rescore
from eval_anything.cli import app
from eval_anything.core.results_files import read_results, read_sample_records
from eval_anything.models.agent import AgentModel
from eval_anything.models.base import ModelAdapter
from eval_anything.models.scripted import ScriptedModel
from eval_anything.run.rescore import RescoreError

TASKS = "mini_amu,mini_amg_if_image,mini_amg_modality_selection"
SECTIONED = ("[[response]]: Three red circles and two beeps.\n"
             "[[image_instruction]]: three red circles on a blue background\n"
             "[[audio_instruction]]: None")


@pytest.fixture()
def finished_run(tmp_path: Path) -> tuple[Path, AgentModel]:
    judge = tmp_path / "judge.json"
    judge.write_text(json.dumps({"[Question]": "Rating: [[3]]"}), "utf-8")
    lm = ScriptedModel(default=SECTIONED)
    agent = AgentModel(lm=lm)
    run = tmp_path / "run"
    evaluate("agent", TASKS, adapter=agent, judges={"judge": f"scripted:{judge}"}, limit=4,
             output_dir=run, cache_path=None, progress=False)
    return run, agent


@pytest.fixture()
def no_generation(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every adapter's generate/loglikelihood is recorded and refused from here on."""
    called: list[str] = []

    def refuse(self: ModelAdapter, requests: list) -> list:  # type: ignore[type-arg]
        called.append(type(self).__name__)
        raise AssertionError("re-judging must not call a model")

    import eval_anything.models.procedural as procedural

    for cls in (ScriptedModel, AgentModel, procedural.ProceduralGenerator):
        monkeypatch.setattr(cls, "generate", refuse)
        monkeypatch.setattr(cls, "loglikelihood", refuse)
    return called


def test_rescore_with_another_judge_writes_new_scores_without_generating(
    finished_run: tuple[Path, AgentModel], no_generation: list[str], tmp_path: Path
) -> None:
    run, agent = finished_run
    lm_calls = agent.lm.calls  # type: ignore[attr-defined]
    old = read_results(run)
    assert old.tasks["mini_amu"].metrics["amu/all"].value == pytest.approx(3.0)
    new = rescore(run, {"judge": "keyword"}, output_dir=tmp_path / "rejudged", cache_path=None)
    assert no_generation == [] and agent.lm.calls == lm_calls  # type: ignore[attr-defined]
    amu = new.tasks["mini_amu"]
    assert [j.identity for j in amu.judges] == ["keyword:v1"]
    assert amu.metrics["amu/all"].value != pytest.approx(3.0)
    assert amu.details["rescored_from"] == old.run_id and new.run_id != old.run_id
    assert new.spec.judges == {"judge": "keyword"}
    # the untouched parts are carried over: image scores, selection, the model identity
    img_old = old.tasks["mini_amg_if_image"].metrics["instruction_following"].value
    assert new.tasks["mini_amg_if_image"].metrics["instruction_following"].value == img_old
    assert new.model.identity == old.model.identity
    recs = read_sample_records(tmp_path / "rejudged", "mini_amu")
    assert len(recs) == 4 and all(r.scores["amu"].judge == "keyword:v1" for r in recs)
    image = read_sample_records(tmp_path / "rejudged", "mini_amg_if_image")[0].output[1]
    assert (tmp_path / "rejudged" / image.path).is_file()
    assert read_results(tmp_path / "rejudged").run_id == new.run_id
    # the original run is unchanged
    assert read_results(run).tasks["mini_amu"].metrics["amu/all"].value == pytest.approx(3.0)


def test_rescore_in_place_and_only_selected_tasks(
    finished_run: tuple[Path, AgentModel], no_generation: list[str]
) -> None:
    run, _ = finished_run
    old = read_results(run)
    new = rescore(run, {"judge": "keyword"}, output_dir=run, tasks=["mini_amu"], cache_path=None)
    assert new.run_id == old.run_id
    assert read_results(run).tasks["mini_amu"].judges[0].identity == "keyword:v1"
    assert json.loads((run / "run.json").read_text())["spec"]["judges"] == {"judge": "keyword"}
    assert set(new.groups) == set(old.groups)
    with pytest.raises(RescoreError, match="not in the run"):
        rescore(run, {}, output_dir=run, tasks=["nope"])


def test_rescore_refuses_a_changed_task(finished_run: tuple[Path, AgentModel],
                                        tmp_path: Path) -> None:
    run, _ = finished_run
    broken = tmp_path / "broken"
    broken.mkdir()
    results = json.loads((run / "results.json").read_text())
    results["tasks"]["ghost"] = {**results["tasks"]["mini_amu"], "task": "ghost"}
    (broken / "results.json").write_text(json.dumps(results), "utf-8")
    with pytest.raises(RescoreError, match="not in the task catalog"):
        rescore(broken, {}, output_dir=tmp_path / "out")
    results = json.loads((run / "results.json").read_text())
    results["tasks"]["mini_amu"]["task_fingerprint"] = "0" * 64
    (run / "results.json").write_text(json.dumps(results), "utf-8")
    with pytest.raises(RescoreError, match="changed since the run"):
        rescore(run, {"judge": "keyword"}, output_dir=tmp_path / "out2", cache_path=None)


def test_score_command(finished_run: tuple[Path, AgentModel], no_generation: list[str],
                       tmp_path: Path) -> None:
    run, _ = finished_run
    out = tmp_path / "cli-out"
    result = CliRunner().invoke(app, ["score", str(run), "--judge", "judge=keyword",
                                      "--tasks", "mini_amu", "-o", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "re-judged" in result.output and "mini_amu" in result.output
    assert read_results(out).tasks["mini_amu"].judges[0].identity == "keyword:v1"
    bad = CliRunner().invoke(app, ["score", str(run), "--judge", "judge"])
    assert bad.exit_code == 2 and "ROLE=BINDING" in bad.output
    typo = tmp_path / "typo-out"
    unused = CliRunner().invoke(app, ["score", str(run), "--judge", "jugde=keyword",
                                      "--tasks", "mini_amu", "-o", str(typo), "--no-cache"])
    assert unused.exit_code == 2, unused.output
    assert "'jugde'" in unused.output and "judge" in unused.output and not typo.exists()


def test_rescore_shows_progress_per_task(finished_run: tuple[Path, AgentModel],
                                        no_generation: list[str], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    run, _ = finished_run
    rescore(run, {"judge": "keyword"}, output_dir=tmp_path / "out", cache_path=None,
            tasks=["mini_amu"], progress=True)
    err = " ".join(capsys.readouterr().err.split())
    assert "mini_amu" in err and "4/4" in err and "samples/s" in err


def test_score_says_why_items_are_unscored_and_the_likelihood_fix(
        finished_run: tuple[Path, AgentModel], tmp_path: Path) -> None:
    """A judge in generation mode that never writes a verdict leaves every item unscored;
    `score` says so in one line per task with the fix, and mode=likelihood scores them."""
    run, _ = finished_run
    chatty = tmp_path / "chatty.json"
    chatty.write_text(json.dumps({"[Question]": "The answer looks fine to me."}), "utf-8")
    result = CliRunner().invoke(app, ["score", str(run), "--judge", f"judge=scripted:{chatty}",
                                      "--tasks", "mini_amu", "-o", str(tmp_path / "gen"),
                                      "--no-cache", "--quiet"])
    assert result.exit_code == 0, result.output
    notes = [ln for ln in result.stderr.splitlines() if ln.startswith("note: mini_amu")]
    assert len(notes) == 1, result.stderr
    assert "no [[N]] verdict" in notes[0] and "mode=likelihood" in notes[0]
    assert "4 unscored" in notes[0]
    fixed = CliRunner().invoke(app, ["score", str(run), "--judge",
                                     f"judge=scripted:{chatty},mode=likelihood",
                                     "--tasks", "mini_amu", "-o", str(tmp_path / "ll"),
                                     "--no-cache", "--quiet"])
    assert fixed.exit_code == 0, fixed.output
    assert "note: mini_amu" not in fixed.stderr
    assert read_results(tmp_path / "ll").tasks["mini_amu"].n_unscored.get("amu", 0) == 0


def test_failed_items_are_not_repeated_as_unscored(tmp_path: Path) -> None:
    """Items whose model call failed are unscored too, but the failure summary already says
    why: no second line for them."""
    script = tmp_path / "no_answers.json"
    script.write_text("{}")  # answers nothing: every model call fails
    result = CliRunner().invoke(app, ["run", "--model", "scripted", "--model-args",
                                      f"script={script}", "--tasks", "mini_amu",
                                      "--judge", "judge=keyword", "--limit", "2", "--quiet",
                                      "--no-cache", "--output-dir", str(tmp_path / "run")])
    assert result.exit_code == 3 and "failed after retries" in result.stderr
    assert "note: mini_amu" not in result.stderr
