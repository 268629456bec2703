"""LLF end to end on a tiny policy with a scripted critic: the stages' files, pairs that are
(refinement, original), and resuming after a stop between stages and a kill inside one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest
from eval_anything.errors import ConfigError
from eval_anything.models.scripted import ScriptedModel
from eval_anything.trainers.algorithms.llf import train_llf
from eval_anything.trainers.config import load_train_config

CRITIQUE = "Answer in the sections [[response]] and [[image_instruction]]."


class DyingCritic(ScriptedModel):
    """A scripted critic whose process 'dies' after ``budget`` critiques."""

    def __init__(self, budget: int, **kw: object) -> None:
        super().__init__(default=CRITIQUE, **kw)  # type: ignore[arg-type]
        self.budget = budget

    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]:
        if self.calls + len(requests) > self.budget:
            raise KeyboardInterrupt("killed")
        return super().generate(requests)


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _cfg(tmp_path: Path, model: Path, critic_script: Path, **extra):  # type: ignore[no-untyped-def]
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(
        json.dumps({"id": f"p{i}", "prompt": f"What is {i} + 2?"}) + "\n" for i in range(6)
    ))
    return load_train_config(None, "llf", {
        "model.path": str(model),
        "data.train": str(prompts),
        "training.output_dir": str(tmp_path / "out"),
        "training.max_steps": 2,
        "training.save_steps": 2,
        "training.per_device_train_batch_size": 2,
        "training.precision": "fp32",
        "llf.critic": f"scripted:script={critic_script}",
        "llf.batch_size": 2,
        "llf.sample": {"max_new_tokens": 6, "temperature": 0.0},
        "llf.critique": {"max_new_tokens": 6},
        "llf.refine": {"max_new_tokens": 6},
        **extra,
    })


@pytest.mark.slow
def test_llf_runs_end_to_end_and_resumes(tmp_path: Path, tiny_llama: Path) -> None:
    script = tmp_path / "critic.json"
    script.write_text(json.dumps({"Point out what is wrong": CRITIQUE}))
    cfg = _cfg(tmp_path, tiny_llama, script)
    work = tmp_path / "out" / "llf"

    # 1. stop between stages: only the samples exist
    first = train_llf(cfg, until="sample")
    assert first.counts == {"sample": 6}
    assert (work / "responses.jsonl").exists() and not (work / "critiques.jsonl").exists()
    samples_bytes = (work / "responses.jsonl").read_bytes()

    # 2. killed inside the critique stage after 2 of 6 critiques
    with pytest.raises(KeyboardInterrupt):
        train_llf(cfg, critic=DyingCritic(budget=2))
    assert len(_read(work / "critiques.jsonl")) == 2

    # 3. the rerun resumes: no resampling, only the 4 missing critiques, then refine, pairs, DPO
    critic = ScriptedModel(default=CRITIQUE)
    done = train_llf(cfg, critic=critic)
    assert (work / "responses.jsonl").read_bytes() == samples_bytes
    assert critic.calls == 4
    responses = {r["id"]: r for r in _read(work / "responses.jsonl")}
    critiques = {r["id"]: r for r in _read(work / "critiques.jsonl")}
    refinements = {r["id"]: r for r in _read(work / "refinements.jsonl")}
    pairs = _read(work / "pairs.jsonl")
    assert len(critiques) == 6 and all(c["critique"] == CRITIQUE for c in critiques.values())
    assert pairs and done.counts["pairs"] == len(pairs)
    for p in pairs:
        assert p["chosen"] == refinements[p["id"]]["refinement"]  # refinement is chosen
        assert p["rejected"] == responses[p["id"]]["response"]  # the original is rejected
        assert p["prompt"] == responses[p["id"]]["prompt"]
    assert done.train is not None and done.train.global_step == 2
    assert (tmp_path / "out" / "checkpoint-2" / "model.safetensors").exists()

    # 4. once finished, a rerun does nothing again
    idle = ScriptedModel(default=CRITIQUE)
    again = train_llf(cfg, critic=idle)
    assert idle.calls == 0 and again.skipped.get("dpo") == "already trained"


def test_changed_template_is_refused_with_the_files_to_delete(
    tmp_path: Path, tiny_llama: Path
) -> None:
    script = tmp_path / "critic.json"
    script.write_text(json.dumps({}))
    train_llf(_cfg(tmp_path, tiny_llama, script), until="sample")
    changed = _cfg(tmp_path, tiny_llama, script, **{"llf.sample": {"max_new_tokens": 7}})
    with pytest.raises(ConfigError, match="responses.jsonl"):
        train_llf(changed, until="sample")


def test_each_llf_stage_shows_a_progress_bar(
    tmp_path: Path, tiny_llama: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "critic.json"
    script.write_text(json.dumps({"Point out what is wrong": CRITIQUE}))
    cfg = _cfg(tmp_path, tiny_llama, script)
    train_llf(cfg, until="pairs")
    err = " ".join(capsys.readouterr().err.split())
    for stage in ("llf sample", "llf critique", "llf refine", "llf pairs"):
        assert stage in err, err
    assert "6/6" in err and "samples/s" in err
    # a resumed stage starts its bar at the rows already done; progress=False prints nothing
    train_llf(cfg, until="pairs", progress=False)
    assert "llf sample" not in capsys.readouterr().err


def test_stage_file_ignores_only_a_torn_last_line(tmp_path: Path) -> None:
    from eval_anything.trainers.algorithms.llf_files import StageFile

    path = tmp_path / "responses.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n{"id": "b", "te', encoding="utf-8")
    assert set(StageFile(path).rows) == {"a"}  # the torn row is redone, not an error

    path.write_text('{"id": "a"}\nnot json\n{"id": "c"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"responses\.jsonl:2: not a row"):
        StageFile(path)
