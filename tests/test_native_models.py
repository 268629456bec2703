"""Models that answer with images and speech themselves, through the hf adapter and the CLI:
tiny random-weight Janus, Emu3, Qwen2.5-Omni and Qwen3-Omni checkpoints (tests/tiny_native.py)
draw and speak for the mini AMG tasks, a text task never runs an Omni talker, and modality
selection and synergy run on a native model that renders the media it chose itself (the agent's
``self``)."""

from __future__ import annotations

import functools
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.core.content import TextPart
from eval_anything.core.requests import GenerateRequest, GenerationConfig


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each tiny checkpoint, built once for the module."""
    from tiny_native import (
        SECTIONED,
        build_tiny_emu3,
        build_tiny_janus,
        build_tiny_qwen2_5_omni,
        build_tiny_qwen3_omni,
    )

    root = tmp_path_factory.mktemp("native")
    return {
        "janus": build_tiny_janus(root / "janus"),
        "emu3": build_tiny_emu3(root / "emu3"),
        "omni": build_tiny_qwen2_5_omni(root / "omni"),
        "omni3": build_tiny_qwen3_omni(root / "omni3"),
        "janus_sectioned": build_tiny_janus(root / "janus_s", answer=SECTIONED),
        "omni_sectioned": build_tiny_qwen2_5_omni(root / "omni_s", answer=SECTIONED),
    }


def run_cli(out: Path, model: str, model_args: str, task: str, *extra: str) -> Any:
    args = ["run", "--model", model, "--model-args", model_args, "--tasks", task,
            "--limit", "2", "--output-dir", str(out), "--no-cache", *extra]
    return CliRunner().invoke(app, args)


def records(run_dir: Path, task: str) -> list[dict[str, Any]]:
    lines = (run_dir / "samples" / f"{task}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def media_of(run_dir: Path, record: dict[str, Any], kind: str) -> list[bytes]:
    return [(run_dir / p["path"]).read_bytes() for p in record["output"] if p["type"] == kind]


def assert_judged(record: dict[str, Any]) -> None:
    """Every score is a value or an unscored reason: the judge ran, it did not fail."""
    for name, score in record["scores"].items():
        assert score["value"] is not None or score["unscored_reason"], (name, score)
        assert "error" not in str(score.get("unscored_reason") or "").lower(), (name, score)


def req(text: str, *mods: str) -> GenerateRequest:
    return GenerateRequest.from_parts(
        [TextPart(text=text)], GenerationConfig(max_new_tokens=4), output_modalities=mods
    )


# ------------------------------------------------------------------ what each model emits


@pytest.mark.slow
def test_each_model_says_what_it_emits(native: dict[str, Path], tiny_llama: Path) -> None:
    from eval_anything.models.hf import HFModel

    emits = {k: HFModel(str(native[k]), dtype="float32").output_modalities
             for k in ("janus", "emu3", "omni", "omni3")}
    assert emits == {"janus": ("text", "image"), "emu3": ("text", "image"),
                     "omni": ("text", "audio"), "omni3": ("text", "audio")}
    for omni in ("omni", "omni3"):
        quiet = HFModel(str(native[omni]), dtype="float32", talker=False)
        assert quiet.output_modalities == ("text",) and not hasattr(quiet.model, "talker")
        (answer,) = quiet.generate([req("hi", "text")])  # no talker needed for text
        assert answer.error is None and [p.type for p in answer.parts] == ["text"]
    text_only = HFModel(str(tiny_llama), dtype="float32")
    assert text_only.output_modalities == ("text",) and "media" not in text_only.identity()
    # the generation settings are part of the identity (so of the cache key)
    a = HFModel(str(native["janus"]), dtype="float32")
    b = HFModel(str(native["janus"]), dtype="float32", guidance_scale=2.0)
    assert a.identity()["media"]["image"]["guidance_scale"] == 5.0
    assert a.identity_hash() != b.identity_hash()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "args", "message"),
    [
        ("llama", "guidance_scale=3", "does not draw images"),
        ("llama", "talker=false", "has no talker"),
        ("janus", "image_area=4096", "Janus draws at its fixed size"),
        ("janus", "guidance_scale=1", "above 1"),
        ("janus", "speaker=Chelsie", "does not speak"),
        ("omni", "speaker=Nobody", "speakers Chelsie"),
        ("omni", "talker=false,speaker=Chelsie", "leave out talker=false"),
        ("omni", "talker_max_new_tokens=100000", "at most 512 speech codes"),
    ],
)
def test_a_setting_the_model_cannot_use_is_refused(
    native: dict[str, Path], tiny_llama: Path, tmp_path: Path, model: str, args: str, message: str
) -> None:
    folder = tiny_llama if model == "llama" else native[model]
    result = run_cli(tmp_path / "run", "hf", f"pretrained={folder},{args}", "starter_gen")
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", " ")
    assert not (tmp_path / "run" / "results.json").exists()


def test_models_listing_says_hf_outputs_are_per_model() -> None:
    result = CliRunner().invoke(app, ["models", "hf"])
    assert result.exit_code == 0
    shown = " ".join(result.output.split())
    assert "outputs: per model" in shown and "Janus" in shown and "Qwen2.5-Omni" in shown


# ------------------------------------------------------------------ native media on the IF tasks


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["janus", "emu3"])
def test_image_task_gets_an_image_the_model_drew(
    native: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    from PIL import Image

    out = tmp_path / "run"
    result = run_cli(out, "hf", f"pretrained={native[kind]},dtype=float32", "mini_amg_if_image")
    assert result.exit_code == 0, result.output
    recs = records(out, "mini_amg_if_image")
    assert len(recs) == 2
    pngs = []
    for rec in recs:
        (png,) = media_of(out, rec, "image")
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.size[0] >= 32
        generation = rec["metadata"]["input_processing"]["generation"]
        assert generation["mode"] == "image" and generation["image_tokens"] >= 16
        assert_judged(rec)
        pngs.append(np.asarray(image.convert("RGB")))
    assert not np.array_equal(pngs[0], pngs[1])  # drawn from each prompt
    model = json.loads((out / "results.json").read_text())["model"]
    assert model["output_modalities"] == ["text", "image"]
    assert model["details"]["media"]["image"]["image_temperature"] == 1.0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "speaker", "per_code"),
    [("omni", "Chelsie", 2 * 240), ("omni3", "ethan", 1920)],  # mel frames x hop; decoder
)
def test_audio_task_gets_speech_from_the_talker(
    native: dict[str, Path], tmp_path: Path, kind: str, speaker: str, per_code: int
) -> None:
    import soundfile as sf

    out = tmp_path / "run"
    args = f"pretrained={native[kind]},dtype=float32,speaker={speaker.upper()},"
    result = run_cli(out, "hf", args + "talker_max_new_tokens=12", "mini_amg_if_audio")
    assert result.exit_code == 0, result.output
    for rec in records(out, "mini_amg_if_audio"):
        (wav,) = media_of(out, rec, "audio")
        wave, rate = sf.read(io.BytesIO(wav))
        assert rate == 24000 and 0 < len(wave) <= 12 * per_code
        generation = rec["metadata"]["input_processing"]["generation"]
        assert generation["speaker"] == speaker and generation["talker_max_new_tokens"] == 12
        assert_judged(rec)


SPEECH_PARTS = {
    "omni": ("qwen2_5_omni", "Qwen2_5OmniTalkerForConditionalGeneration",
             "Qwen2_5OmniToken2WavModel"),
    "omni3": ("qwen3_omni_moe", "Qwen3OmniMoeTalkerForConditionalGeneration",
              "Qwen3OmniMoeCode2Wav"),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["omni", "omni3"])
def test_a_text_task_never_runs_the_talker(
    native: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    import importlib

    package, talker, vocoder = SPEECH_PARTS[kind]
    module = importlib.import_module(f"transformers.models.{package}.modeling_{package}")
    calls = {"talker": 0, "vocoder": 0}
    for name, key in ((talker, "talker"), (vocoder, "vocoder")):
        cls = getattr(module, name)
        monkeypatch.setattr(cls, "forward", _counting(cls.forward, calls, key))
    out = tmp_path / "run"
    result = run_cli(out, "hf", f"pretrained={native[kind]},dtype=float32", "starter_gen")
    assert result.exit_code == 0, result.output
    assert all(r["output"][0]["type"] == "text" for r in records(out, "starter_gen"))
    assert calls == {"talker": 0, "vocoder": 0}
    # the same model asked for speech does run them (the counters see it)
    from eval_anything.models.hf import HFModel

    model = HFModel(str(native[kind]), dtype="float32", talker_max_new_tokens=8)
    (spoken,) = model.generate([req("say hi", "audio")])
    assert [p.type for p in spoken.parts] == ["text", "audio"]
    assert calls["talker"] > 0 and calls["vocoder"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["omni", "omni3"])
def test_speech_about_an_image(native: dict[str, Path], tmp_path: Path, kind: str) -> None:
    """An image input reaches the thinker while the talker speaks (transformers needs it routed
    as ``thinker_pixel_values``); two rows batched at once."""
    from PIL import Image

    from eval_anything.core.content import ImagePart
    from eval_anything.models.hf import HFModel

    Image.new("RGB", (64, 64), (200, 30, 30)).save(tmp_path / "red.png")
    model = HFModel(str(native[kind]), dtype="float32", talker_max_new_tokens=6)
    asked = GenerateRequest.from_parts(
        [ImagePart(path=str(tmp_path / "red.png")), TextPart(text="what is this? say it")],
        GenerationConfig(max_new_tokens=4), output_modalities=("text", "audio"),
    )
    for out in model.generate([asked, asked]):
        assert out.error is None and [p.type for p in out.parts] == ["text", "audio"]
        assert out.consumed_modalities == ["text", "image"]


def _counting(forward: Any, calls: dict[str, int], key: str) -> Any:
    """``forward`` counting its calls (same signature, which ``generate`` inspects)."""

    @functools.wraps(forward)
    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[key] += 1
        return forward(self, *args, **kwargs)

    return counted


# ------------------------------------------------------ selection and synergy, self-rendered


@pytest.mark.slow
def test_selection_on_a_model_that_draws_what_it_chose(
    native: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    args = f"lm=hf,lm.pretrained={native['janus_sectioned']},lm.dtype=float32,image=self,audio=none"
    result = run_cli(out, "agent", args, "mini_amg_modality_selection")
    assert result.exit_code == 0, result.output
    for rec in records(out, "mini_amg_modality_selection"):
        assert "[[image_instruction]]: three red circles" in rec["output"][0]["text"]
        (png,) = media_of(out, rec, "image")
        assert png.startswith(b"\x89PNG")
        rendered = rec["metadata"]["input_processing"]["media_generation"]["image"]
        assert rendered["guidance_scale"] == 5.0  # drawn by Janus itself, with its settings
        assert rec["scores"]["selection"]["value"] is not None


@pytest.mark.slow
def test_synergy_on_a_model_that_speaks_what_it_wrote(
    native: dict[str, Path], tmp_path: Path
) -> None:
    import soundfile as sf

    out = tmp_path / "run"
    args = (f"lm=hf,lm.pretrained={native['omni_sectioned']},lm.dtype=float32,"
            "lm.talker_max_new_tokens=16,audio=self,image=procedural")
    result = run_cli(out, "agent", args, "mini_amg_modality_synergy")
    assert result.exit_code == 0, result.output
    for rec in records(out, "mini_amg_modality_synergy"):
        (wav,) = media_of(out, rec, "audio")
        assert sf.read(io.BytesIO(wav))[1] == 24000
        assert rec["metadata"]["input_processing"]["media_generation"]["audio"]["mode"] == "speech"
        assert_judged(rec)
        assert rec["scores"]["synergy/ta"]["value"] is not None
