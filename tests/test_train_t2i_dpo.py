"""DPO on text-to-image preferences for a model that draws: a tiny random-weight Janus
(tests/tiny_native.py) learns from align-anything rows (a prompt, a preferred and a rejected
image) through ``eval-anything train dpo``; the images become the model's own image tokens, the
image tokens' log-probabilities are the ones its image generation scores, the preferred image
gains on the rejected one, and the auto-scored checkpoint draws the images of the image task.
Bad rows and a model that cannot draw exit 2 before anything is written."""

from __future__ import annotations

import base64
import functools
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eval_anything.cli import app

COLORS = {"red": (220, 30, 30), "blue": (30, 40, 220), "green": (30, 190, 40),
          "yellow": (230, 210, 40)}


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def janus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_native import build_tiny_janus

    return build_tiny_janus(tmp_path_factory.mktemp("t2i") / "janus")


def png(color: tuple[int, int, int], size: int = 32) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, format="PNG")
    return buf.getvalue()


def write_pairs(folder: Path, **row_changes: Any) -> Path:
    """Four align-anything text-to-image rows ("a plain red square": red preferred over the
    next color; odd rows have longer prompts), PNGs under ``images/``; ``row_changes``
    overrides fields of row 1."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    names = list(COLORS)
    for name, color in COLORS.items():
        (folder / "images" / f"{name}.png").write_bytes(png(color))
    rows = [{"prompt": f"a plain {name} square" + ", edge to edge" * (i % 2),
             "better_image": f"images/{name}.png",
             "worse_image": f"images/{names[(i + 1) % len(names)]}.png"}
            for i, name in enumerate(names)]
    rows[1].update(row_changes)
    path = folder / "pairs.json"
    path.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return path


def write_config(path: Path, model_dir: Path, rows: Path, out: Path, **sections: Any) -> Path:
    """A training config (``sections`` merge into its sections) at ``path``."""
    cfg: dict[str, Any] = {
        "algorithm": "dpo", "model": {"path": str(model_dir)}, "data": {"train": str(rows)},
        "training": {"output_dir": str(out), "max_steps": 8, "save_steps": 8,
                     "per_device_train_batch_size": 4, "learning_rate": 1.0e-3},
        "dpo": {"beta": 0.1},
    }
    for name, value in sections.items():
        cfg[name] = {**cfg.get(name, {}), **value}
    path.write_text(json.dumps(cfg), encoding="utf-8")  # JSON is YAML
    return path


def collated(model_dir: Path, data: Path, rows: list[int]) -> tuple[Any, dict[str, Any]]:
    """The model and one batch of the given rows, made by the collator training uses."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from eval_anything.trainers.algorithms.image_token_logprobs import vq_image_tokens
    from eval_anything.trainers.data.image_preferences import to_image_pairs
    from eval_anything.trainers.data.image_token_collator import (
        ImageTokenCollator,
        image_pairs_dataset,
    )

    model = AutoModelForImageTextToText.from_pretrained(model_dir).eval()
    raw = json.loads(data.read_text(encoding="utf-8"))
    dataset = image_pairs_dataset(to_image_pairs(raw, "align_anything_t2i", str(data),
                                                 data.parent))
    collator = ImageTokenCollator(AutoProcessor.from_pretrained(model_dir))
    collator.bind(functools.partial(vq_image_tokens, model))
    return model, collator([dataset[i] for i in rows])


def sequence_logprobs(model: Any, batch: dict[str, Any]) -> list[float]:
    import torch

    from eval_anything.trainers.algorithms.image_token_logprobs import image_sequence_logprobs

    with torch.no_grad():
        return image_sequence_logprobs(model, batch["input_ids"], batch["attention_mask"],
                                       batch["image_token_mask"]).tolist()


def generation_loop_logprob(model: Any, prompt_ids: Any, tokens: Any) -> float:
    """What Janus's ``generate(..., generation_mode="image")`` scores each image token with,
    step by step and without guidance: the prompt's embeddings, then each token fed back
    through the generation embeddings, the last hidden state through the generation head."""
    import torch

    total = 0.0
    with torch.no_grad():
        for i, token in enumerate(tokens.tolist()):
            embeds = torch.cat([
                model.get_input_embeddings()(prompt_ids[None]),
                model.prepare_embeddings_for_image_generation(tokens[None, :i]),
            ], dim=1)
            hidden = model.model.language_model(inputs_embeds=embeds).last_hidden_state
            scores = model.model.generation_head(hidden[:, -1])
            total += float(torch.log_softmax(scores.float(), dim=-1)[0, token])
    return total


@pytest.mark.slow
def test_image_tokens_are_scored_as_image_generation_scores_them(
    janus: Path, tmp_path: Path
) -> None:
    data = write_pairs(tmp_path / "data")
    model, batch = collated(janus, data, [0, 1])
    n = model.model.vision_model.config.num_image_tokens
    assert int(batch["image_token_mask"].sum(dim=1)[0]) == n  # the grid generate writes
    assert batch["input_ids"].shape[0] == 4  # chosen rows, then rejected rows
    assert not batch["input_ids"][0, -n:].equal(batch["input_ids"][2, -n:])  # two images
    batched = sequence_logprobs(model, batch)
    for row, value in enumerate(batched):
        keep = batch["attention_mask"][row].bool() & ~batch["image_token_mask"][row]
        prompt = batch["input_ids"][row][keep]
        expected = generation_loop_logprob(model, prompt, batch["input_ids"][row, -n:])
        assert value == pytest.approx(expected, abs=1e-3)
    # the prompts differ in length: a pair scores the same alone as beside a longer prompt
    _, alone = collated(janus, data, [0])
    assert alone["input_ids"].shape[1] < batch["input_ids"].shape[1]
    single = sequence_logprobs(model, alone)
    assert single == pytest.approx([batched[0], batched[2]], abs=1e-4)


def test_pick_a_pic_rows_order_by_label_and_leave_ties_out(tmp_path: Path) -> None:
    from eval_anything.trainers.data.image_preferences import detect_text_to_image, to_image_pairs

    red, blue = (base64.b64encode(png(COLORS[c])).decode() for c in ("red", "blue"))
    rows = [{"caption": "red", "jpg_0": red, "jpg_1": blue, "label_0": 1, "label_1": 0},
            {"caption": "blue", "jpg_0": red, "jpg_1": blue, "label_0": 0.0, "label_1": 1.0},
            {"caption": "either", "jpg_0": red, "jpg_1": blue, "label_0": 0.5, "label_1": 0.5}]
    assert detect_text_to_image(rows[0]) == "pick_a_pic"
    pairs = to_image_pairs(rows, "pick_a_pic", "p.jsonl", tmp_path)
    assert [p.prompt for p in pairs] == ["red", "blue"]
    assert [(p.chosen.field, p.rejected.field) for p in pairs] == [("jpg_0", "jpg_1"),
                                                                   ("jpg_1", "jpg_0")]
    assert pairs[0].chosen.part.read_bytes() == png(COLORS["red"])


def run_train(config: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "eval-anything"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    return subprocess.run([str(exe), "train", "dpo", "--config", str(config)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_dpo_prefers_the_chosen_image_and_the_scored_checkpoint_draws(
    janus: Path, tmp_path: Path
) -> None:
    from PIL import Image

    data = write_pairs(tmp_path / "data")
    out = tmp_path / "out"
    config = write_config(tmp_path / "cfg.yaml", janus, data, out, autoscore={
        "tasks": ["mini_amg_if_image"], "limit": 2, "push": False})
    proc = run_train(config, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]

    # TRL's own metrics: the loss falls, the margin grows, the reference was precomputed
    state = json.loads((out / "checkpoint-8" / "trainer_state.json").read_text())
    logged = [h for h in state["log_history"] if "rewards/margins" in h]
    assert len(logged) == 8
    assert logged[-1]["loss"] < logged[0]["loss"] - 0.01
    assert logged[-1]["rewards/margins"] > logged[0]["rewards/margins"] + 0.02
    assert logged[-1]["rewards/accuracies"] == 1.0
    assert "Computing reference log probs" in proc.stderr

    # measured directly: each preferred image's log-probability rose against its rejected one
    before, batch = collated(janus, data, [0, 1, 2, 3])
    after, _ = collated(out / "checkpoint-8", data, [0, 1, 2, 3])
    b, a = sequence_logprobs(before, batch), sequence_logprobs(after, batch)
    for i in range(4):
        assert a[i] - a[i + 4] > b[i] - b[i + 4]
    assert after.model.vqmodel.state_dict().keys() == before.model.vqmodel.state_dict().keys()
    for key, value in before.model.vqmodel.state_dict().items():  # the image decoder is frozen
        assert after.model.vqmodel.state_dict()[key].equal(value), key

    # the checkpoint was scored on the image task with images the trained model drew
    ledger = json.loads((out / "autoscore" / "ledger.json").read_text())
    assert ledger["checkpoints"]["checkpoint-8"]["status"] == "scored"
    run = out / "autoscore" / "checkpoint-8"
    results = json.loads((run / "results.json").read_text())
    assert results["model"]["output_modalities"] == ["text", "image"]
    pngs = sorted((run / "media").rglob("*.png"))
    assert len(pngs) == 2
    for path in pngs:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (32, 32)
            image.load()
    records = [json.loads(line) for line in (run / "samples" / "mini_amg_if_image.jsonl")
               .read_text().splitlines()]
    for rec in records:
        assert rec["metadata"]["input_processing"]["generation"]["mode"] == "image"


@pytest.mark.slow
def test_lora_dpo_on_image_tokens_saves_an_adapter(janus: Path, tmp_path: Path) -> None:
    from eval_anything.trainers import load_train_config, train

    data = write_pairs(tmp_path / "data")
    config = write_config(tmp_path / "cfg.yaml", janus, data, tmp_path / "out",
                          model={"lora": {"r": 4, "alpha": 8, "dropout": 0.0}},
                          training={"max_steps": 4, "save_steps": 4, "learning_rate": 5.0e-3},
                          dpo={"precompute_ref_log_probs": False})
    outcome = train(load_train_config(config, "dpo"))
    assert (outcome.final_dir / "adapter_config.json").exists()
    assert not (outcome.final_dir / "model.safetensors").exists()
    margins = [h["rewards/margins"] for h in outcome.log_history if "rewards/margins" in h]
    assert len(margins) == 4 and margins[-1] > margins[0]


def train_cli(config: Path) -> Any:
    return CliRunner().invoke(app, ["train", "dpo", "--config", str(config)])


def test_a_missing_or_broken_image_exits_2_naming_file_row_and_field(
    tiny_llama: Path, tmp_path: Path
) -> None:
    """The rows are checked before the model is looked at."""
    data = write_pairs(tmp_path / "data", worse_image="images/absent.png")
    out = tmp_path / "out"
    result = train_cli(write_config(tmp_path / "cfg.yaml", tiny_llama, data, out))
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert f"{data}: row 1: field 'worse_image' (image)" in text and "file not found" in text
    assert not out.exists()

    (tmp_path / "data" / "images" / "broken.png").write_text("not a picture")
    data = write_pairs(tmp_path / "data", better_image="images/broken.png")
    result = train_cli(write_config(tmp_path / "cfg.yaml", tiny_llama, data, out))
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "row 1: field 'better_image' (image): cannot be decoded" in text
    assert not out.exists()

    data = write_pairs(tmp_path / "data", better_image="../../outside.png")
    result = train_cli(write_config(tmp_path / "cfg.yaml", tiny_llama, data, out))
    assert result.exit_code == 2 and "outside the media root" in result.output
    assert not out.exists()


def test_a_model_that_cannot_draw_exits_2_before_writing(
    tiny_llama: Path, tmp_path: Path
) -> None:
    data = write_pairs(tmp_path / "data")
    out = tmp_path / "out"
    result = train_cli(write_config(tmp_path / "cfg.yaml", tiny_llama, data, out))
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert f"{data}: row 0: text-to-image preference rows" in text
    assert "(LlamaForCausalLM) cannot draw" in text
    assert not out.exists()


def test_wrong_combinations_exit_2(tiny_llama: Path, tmp_path: Path) -> None:
    data = write_pairs(tmp_path / "data")
    out = tmp_path / "out"
    # text-to-image rows with another algorithm, detected or named
    flags = ["--model", str(tiny_llama), "--data", str(data), "--output-dir", str(out)]
    result = CliRunner().invoke(app, ["train", "sft", *flags])
    assert result.exit_code == 2 and "train only with 'train dpo'" in result.output
    result = CliRunner().invoke(app, ["train", "rm", *flags, "--format", "pick_a_pic"])
    assert result.exit_code == 2 and "train only with 'train dpo'" in result.output
    # the named format does not match the rows
    config = write_config(tmp_path / "cfg.yaml", tiny_llama, data, out,
                          data={"format": "pick_a_pic"})
    result = train_cli(config)
    assert result.exit_code == 2 and "row 0: field 'caption'" in result.output
    assert not out.exists()


@pytest.mark.slow
def test_an_explicit_max_length_never_truncates_the_image(janus: Path, tmp_path: Path) -> None:
    data = write_pairs(tmp_path / "data")
    out = tmp_path / "out"
    config = write_config(tmp_path / "cfg.yaml", janus, data, out, training={"max_length": 20})
    result = train_cli(config)
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "row 0: field 'prompt' and its 16 image tokens" in text
    assert not out.exists()
