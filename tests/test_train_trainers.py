"""The built-in trainers run on a tiny model from a config or CLI flags: SFT, reward model,
critic SFT and DPO (LoRA too), each leaving loadable checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval_anything.trainers import train
from eval_anything.trainers.config import load_train_config
from eval_anything.trainers.demo.bundled_data import data_file

FEEDBACK = str(data_file().parent / "feedback.jsonl")
PAIRS = str(data_file())


def _cfg(tmp_path: Path, model: Path, algorithm: str, data: str, **extra):  # type: ignore[no-untyped-def]
    return load_train_config(None, algorithm, {
        "model.path": str(model), "data.train": data, "data.limit": 8,
        "training.output_dir": str(tmp_path / algorithm), "training.max_steps": 2,
        "training.save_steps": 1, "training.per_device_train_batch_size": 2,
        "training.precision": "fp32", "training.trl": {"disable_tqdm": True},
        **extra,
    })


@pytest.mark.slow
def test_sft_rm_and_critic_train_and_checkpoint(tmp_path: Path, tiny_llama: Path) -> None:
    sft = train(_cfg(tmp_path, tiny_llama, "sft", FEEDBACK, **{"data.format": "feedback"}))
    assert sft.global_step == 2 and (sft.final_dir / "model.safetensors").exists()
    assert any("loss" in h for h in sft.log_history)

    rm = train(_cfg(tmp_path, tiny_llama, "rm", PAIRS))
    config = json.loads((rm.final_dir / "config.json").read_text())
    assert config["architectures"] == ["LlamaForSequenceClassification"]
    assert len(config["id2label"]) == 1  # one reward logit

    critic = train(_cfg(tmp_path, tiny_llama, "critic", FEEDBACK))
    assert critic.global_step == 2
    assert (critic.final_dir / "tokenizer_config.json").exists()  # loadable by the hf adapter


@pytest.mark.slow
def test_dpo_lora_checkpoints_are_adapters_loadable_on_their_base(
    tmp_path: Path, tiny_llama: Path
) -> None:
    from eval_anything.models.hf import HFModel

    out = train(_cfg(tmp_path, tiny_llama, "dpo", PAIRS, **{
        "model.lora": {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]},
        "training.learning_rate": 1e-3,
    }))
    assert (out.final_dir / "adapter_config.json").exists()
    assert not (out.final_dir / "model.safetensors").exists()
    adapter = HFModel(pretrained=str(out.final_dir), base=str(tiny_llama))
    assert adapter.identity()["base"] is not None


def test_cli_train_reports_bad_config_with_exit_2(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from eval_anything.cli import app

    cfg = tmp_path / "bad.yaml"
    cfg.write_text("model: {path: m}\ndata: {train: d.jsonl}\ndpo: {betta: 0.1}\n")
    result = CliRunner().invoke(app, ["train", "dpo", "--config", str(cfg)])
    assert result.exit_code == 2
    assert "dpo.betta" in result.output and str(cfg) in result.output


@pytest.mark.slow
def test_cli_train_dpo_from_flags(tmp_path: Path, tiny_llama: Path) -> None:
    from typer.testing import CliRunner

    from eval_anything.cli import app

    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "train", "dpo", "--model", str(tiny_llama), "--data", PAIRS, "--output-dir", str(out),
        "--max-steps", "2", "--save-steps", "2", "--batch-size", "2", "--loss-type", "ipo",
        "--precision", "fp32", "--set", "data.limit=4", "--set", "training.trl.disable_tqdm=true",
    ])
    assert result.exit_code == 0, result.output
    assert "trained dpo-" in result.output and (out / "checkpoint-2").is_dir()
    args = json.loads((out / "checkpoint-2" / "trainer_state.json").read_text())
    assert args["global_step"] == 2
