"""Media reach the model, or the run stops: tiny LLaVA (image), Qwen2-Audio (audio) and
LLaVA-NeXT-Video (video) models trained with SFT and DPO on align-anything rows through one
processor collator; the loss changes with the media; a text-only model given media rows is
refused with exit 2 before anything is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tiny_media import (
    FIELD,
    KINDS,
    build_model,
    feedback_rows,
    preference_rows,
    write_media,
    write_task,
)
from typer.testing import CliRunner

from eval_anything.cli import app


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("media-models")
    return {kind: build_model(kind, root / kind) for kind in KINDS}


@pytest.mark.parametrize("kind", ["video", "audio", "image"])
def test_text_only_model_refuses_media_rows_before_writing(
    tmp_path: Path, tiny_llama: Path, kind: str
) -> None:
    data = preference_rows(tmp_path / "data", kind, n=2)
    out = tmp_path / "out"
    for algorithm in ("dpo", "sft"):
        result = CliRunner().invoke(app, [
            "train", algorithm, "--model", str(tiny_llama), "--data", str(data),
            "--output-dir", str(out), "--max-steps", "1",
        ])
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert f"{data.name}: row 0: field '{FIELD[kind]}' holds {kind}" in text
        assert "text-only" in text
        assert not out.exists()  # nothing written: no folder, no training_run.json


def test_audio_rows_refused_by_an_image_model(tmp_path: Path, models: dict[str, Path]) -> None:
    data = preference_rows(tmp_path / "data", "audio", n=2)
    result = CliRunner().invoke(app, [
        "train", "dpo", "--model", str(models["image"]), "--data", str(data),
        "--output-dir", str(tmp_path / "out"),
    ])
    assert result.exit_code == 2
    assert "holds audio" in result.output and "takes only text, image" in result.output
    assert not (tmp_path / "out").exists()


def _loss(model_dir: Path, kind: str, media_index: int, tmp_path: Path) -> float:
    """The SFT loss of one row, batched by the collator training uses."""
    import torch
    from transformers import AutoProcessor

    from eval_anything.trainers.data.examples import Completion
    from eval_anything.trainers.data.layouts import row_media
    from eval_anything.trainers.data.processor_collators import (
        CompletionCollator,
        completions_media_dataset,
    )
    from eval_anything.trainers.setup.models import media_auto_class

    name = write_media(tmp_path, kind, media_index)
    media = row_media({FIELD[kind]: name}, "rows", 0, tmp_path)
    ds = completions_media_dataset([Completion("What is this?", "A red square.", media=media)])
    batch = CompletionCollator(AutoProcessor.from_pretrained(model_dir))([ds[0]])
    auto = media_auto_class(str(model_dir))
    assert auto is not None
    torch.manual_seed(0)
    model = auto.from_pretrained(model_dir).eval()
    with torch.no_grad():
        return float(model(**batch).loss)


@pytest.mark.parametrize("kind", KINDS)
def test_the_media_change_the_loss(tmp_path: Path, models: dict[str, Path], kind: str) -> None:
    first = _loss(models[kind], kind, 0, tmp_path)
    assert _loss(models[kind], kind, 0, tmp_path) == first  # same media, same loss
    assert _loss(models[kind], kind, 1, tmp_path) != first  # other media, other loss


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_sft_and_dpo_train_on_media_rows(tmp_path: Path, models: dict[str, Path],
                                         kind: str) -> None:
    """SFT, DPO and the critic through the same collator; DPO with precomputed reference
    log-probs; the critic on critique rows with their media."""
    from eval_anything.trainers import train
    from eval_anything.trainers.config import load_train_config

    data = {"sft": preference_rows(tmp_path / "data", kind),
            "critic": feedback_rows(tmp_path / "data", kind)}
    data["dpo"] = data["sft"]
    for algorithm in ("sft", "dpo", "critic"):
        cfg = load_train_config(None, algorithm, {
            "model.path": str(models[kind]), "data.train": str(data[algorithm]),
            "training.output_dir": str(tmp_path / algorithm), "training.max_steps": 2,
            "training.save_steps": 2, "training.per_device_train_batch_size": 2,
            "training.precision": "fp32", "training.trl": {"disable_tqdm": True},
            "dpo.precompute_ref_log_probs": True,
        })
        out = train(cfg)
        assert out.global_step == 2
        assert (out.final_dir / "model.safetensors").exists()
        assert (out.final_dir / "processor_config.json").exists() or any(
            out.final_dir.glob("*processor*.json"))
        losses = [h["loss"] for h in out.log_history if "loss" in h]
        assert len(losses) == 2 and all(v == v for v in losses)
        run = json.loads((tmp_path / algorithm / "training_run.json").read_text())
        assert run["training_run_id"].startswith(algorithm)


class RecordingCritic:
    """A scripted critic (as in test_llf) that keeps the modalities of each request it gets."""

    def __new__(cls) -> Any:
        from eval_anything.models.scripted import ScriptedModel

        class _Recording(ScriptedModel):
            seen: list[list[str]] = []

            def generate(self, requests: list[Any]) -> list[Any]:
                self.seen.extend([[p.type for p in r.parts] for r in requests])
                return super().generate(requests)

        return _Recording(default="Name the colour you see first.")


def _ledger(output_dir: Path) -> list[dict[str, Any]]:
    data = json.loads((output_dir / "autoscore" / "ledger.json").read_text())
    return list(data["checkpoints"].values())


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_sft_dpo_and_llf_checkpoints_are_scored_on_a_matching_task_and_pushed(
    tmp_path: Path, models: dict[str, Path], kind: str
) -> None:
    from eval_anything.trainers.algorithms.llf import train_llf
    from eval_anything.trainers.config import load_train_config

    task = write_task(tmp_path / "tasks", kind)
    store = tmp_path / "store.sqlite"
    pairs = preference_rows(tmp_path / "data", kind)
    scoring = ["--tasks", task, "--include-path", str(tmp_path / "tasks"), "--store", str(store)]
    for algorithm in ("sft", "dpo"):
        out = tmp_path / algorithm
        result = CliRunner().invoke(app, [
            "train", algorithm, "--model", str(models[kind]), "--data", str(pairs),
            "--output-dir", str(out), "--max-steps", "2", "--save-steps", "2",
            "--batch-size", "2", "--precision", "fp32", *scoring,
        ])
        assert result.exit_code == 0, result.output
        (entry,) = _ledger(out)
        assert entry["status"] == "scored" and entry["pushed_run_id"], entry
        assert f"{task}/exact_match" in entry["metrics"]

    critic = RecordingCritic()
    cfg = load_train_config(None, "llf", {
        "model.path": str(models[kind]), "data.train": str(feedback_rows(tmp_path / "fb", kind)),
        "training.output_dir": str(tmp_path / "llf"), "training.max_steps": 2,
        "training.save_steps": 2, "training.per_device_train_batch_size": 2,
        "training.precision": "fp32", "llf.critic": "scripted:", "llf.batch_size": 4,
        "llf.sample": {"max_new_tokens": 6, "temperature": 1.0, "seed": 0},
        "llf.refine": {"max_new_tokens": 6, "temperature": 1.0, "seed": 1},
        "autoscore.tasks": [task], "autoscore.include_paths": [str(tmp_path / "tasks")],
        "autoscore.store": str(store),
    })
    done = train_llf(cfg, critic=critic)
    assert critic.seen and all(kinds == [kind, "text"] for kinds in critic.seen)
    pairs_written = [json.loads(line) for line in
                     (tmp_path / "llf" / "llf" / "pairs.jsonl").read_text().splitlines()]
    assert pairs_written and all(p["media"][0]["field"] == FIELD[kind] for p in pairs_written)
    assert done.train is not None and done.train.global_step == 2
    (scored,) = done.train.scored
    assert scored.status == "scored" and scored.pushed_run_id


@pytest.mark.slow
def test_lora_dpo_on_a_media_model_saves_an_adapter(tmp_path: Path,
                                                   models: dict[str, Path]) -> None:
    from eval_anything.trainers import train
    from eval_anything.trainers.config import load_train_config

    cfg = load_train_config(None, "dpo", {
        "model.path": str(models["audio"]), "data.train": str(preference_rows(tmp_path, "audio")),
        "training.output_dir": str(tmp_path / "out"), "training.max_steps": 2,
        "training.save_steps": 2, "training.per_device_train_batch_size": 2,
        "training.precision": "fp32", "training.trl": {"disable_tqdm": True},
        "model.lora": {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]},
    })
    out = train(cfg)
    assert (out.final_dir / "adapter_config.json").exists()
    assert not (out.final_dir / "model.safetensors").exists()
    assert any("rewards/margins" in h for h in out.log_history)
    # the adapter is scored the way its base is: on the base's media class, with its processor
    import torch

    from eval_anything.models.hf_loading import load_model_and_tokenizer

    loaded = load_model_and_tokenizer(str(out.final_dir), None, torch.float32, "cpu")
    assert loaded.processor is not None
    assert type(loaded.model).__name__ == type_name_of(models["audio"])


def type_name_of(folder: Path) -> str:
    return str(json.loads((folder / "config.json").read_text())["architectures"][0])
