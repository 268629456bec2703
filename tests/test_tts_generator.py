"""The ``tts`` generator (transformers text-to-speech / text-to-audio) on tiny VITS and MusicGen
checkpoints (``tests/tiny_audio.py``): WAV output, determinism, refusals, and the CLI alone and
as the agent's audio part."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_audio import build_tiny_musicgen, build_tiny_vits
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.core.content import AudioPart, TextPart
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest, GenerationConfig
from eval_anything.errors import ConfigError
from eval_anything.media.io import load_audio
from eval_anything.models.agent import AgentModel
from eval_anything.models.scripted import ScriptedModel
from eval_anything.models.text_to_audio import TextToAudioGenerator

torch.set_num_threads(1)

SECTIONED = (
    "[[response]]: Two beeps and a red circle. "
    "[[image_instruction]]: one red circle "
    "[[audio_instruction]]: two high beeps"
)


@pytest.fixture(scope="module")
def tiny_vits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_vits(tmp_path_factory.mktemp("tiny-vits") / "model")


@pytest.fixture(scope="module")
def tiny_musicgen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_musicgen(tmp_path_factory.mktemp("tiny-musicgen") / "model")


def req(text: str, seed: int | None = None) -> GenerateRequest:
    return GenerateRequest.from_parts([TextPart(text=text)], GenerationConfig(seed=seed))


def wav(out: ModelOutput, index: int = 0) -> bytes:
    """The WAV bytes of an output's ``index``-th part."""
    part = out.parts[index]
    assert isinstance(part, AudioPart) and part.mime == "audio/wav" and part.data
    return part.data


def decoded(out: ModelOutput) -> tuple[np.ndarray, int]:
    return load_audio(AudioPart(data=wav(out), mime="audio/wav"))


def test_vits_speaks_each_instruction_as_a_wav_equal_for_equal_requests(tiny_vits: Path) -> None:
    gen = TextToAudioGenerator(str(tiny_vits))
    assert gen.output_modalities == ("audio",) and gen.one_per_call
    beeps, dog, beeps_again = gen.generate(
        [req("two high beeps"), req("a dog barks twice"), req("two high beeps")])
    wave, rate = decoded(beeps)
    assert rate == 8000 and wave.size > 0 and np.abs(wave).max() > 0
    assert wav(beeps) == wav(beeps_again)
    assert wav(dog) != wav(beeps)
    # a request's audio does not depend on the requests that share its batch, nor on the instance
    (alone,) = TextToAudioGenerator(str(tiny_vits)).generate([req("two high beeps")])
    assert wav(alone) == wav(beeps)
    assert beeps.details == {"sample_rate": 8000, "seed": 0}


def test_vits_noise_follows_the_seed_and_the_settings_enter_the_identity(tiny_vits: Path) -> None:
    base = TextToAudioGenerator(str(tiny_vits))
    other_seed = TextToAudioGenerator(str(tiny_vits), seed=1)
    quiet = TextToAudioGenerator(str(tiny_vits), noise_scale=0.0, noise_scale_duration=0.0)
    text = "a bell rings"
    (a,), (b,), (c,) = (g.generate([req(text)]) for g in (base, other_seed, quiet))
    assert wav(a) != wav(b) and wav(a) != wav(c)
    # a sampled task's own seed offsets the model's
    (d,) = base.generate([req(text, seed=1)])
    assert wav(d) == wav(b)
    hashes = {g.identity_hash() for g in (base, other_seed, quiet)}
    assert len(hashes) == 3
    assert quiet.identity()["settings"] == {"noise_scale": 0.0, "noise_scale_duration": 0.0}
    assert base.identity_hash() == TextToAudioGenerator(str(tiny_vits)).identity_hash()


def test_vits_speaker_picks_the_voice(tmp_path: Path) -> None:
    folder = build_tiny_vits(tmp_path / "two-voices", num_speakers=2)
    first, second = (TextToAudioGenerator(str(folder), speaker=s) for s in ("0", "1"))
    (a,), (b,) = first.generate([req("hello")]), second.generate([req("hello")])
    assert wav(a) != wav(b)
    with pytest.raises(ConfigError, match="has 2 speaker"):
        TextToAudioGenerator(str(folder), speaker="2")
    with pytest.raises(ConfigError, match="speaker number"):
        TextToAudioGenerator(str(folder), speaker="alice")


def test_an_unspeakable_instruction_fails_alone(tiny_vits: Path) -> None:
    gen = TextToAudioGenerator(str(tiny_vits))
    ok, unspeakable = gen.generate([req("one beep"), req("日本語")])
    assert ok.error is None and decoded(ok)[0].size > 0
    assert unspeakable.parts == [] and "no character" in (unspeakable.error or "")


def test_checkpoints_and_settings_it_cannot_use_are_refused(
    tiny_vits: Path, tiny_llama: Path, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as err:
        TextToAudioGenerator(str(tiny_llama))
    msg = str(err.value)
    assert str(tiny_llama) in msg and "LlamaForCausalLM" in msg and "--model hf" in msg
    with pytest.raises(ConfigError, match="no such folder"):
        TextToAudioGenerator(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no config.json"):
        TextToAudioGenerator(str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match="generate\\(\\) models"):
        TextToAudioGenerator(str(tiny_vits), max_new_tokens=5)
    with pytest.raises(ConfigError, match="audio=tts"):
        TextToAudioGenerator(str(tiny_vits), modality="image")


def test_musicgen_renders_sound_per_instruction_and_batches_when_greedy(
    tiny_musicgen: Path,
) -> None:
    gen = TextToAudioGenerator(str(tiny_musicgen))
    assert gen.one_per_call  # its generation config samples
    beeps, rain, beeps_again = gen.generate(
        [req("two high beeps"), req("rain on a roof"), req("two high beeps")])
    wave, rate = decoded(beeps)
    assert rate == 8000 and wave.size > 0
    assert wav(beeps) == wav(beeps_again) != wav(rain)
    with pytest.raises(ConfigError, match="VITS checkpoints only"):
        TextToAudioGenerator(str(tiny_musicgen), speaking_rate=1.5)
    greedy = TextToAudioGenerator(str(tiny_musicgen), do_sample=False, max_new_tokens=6)
    assert not greedy.one_per_call
    outs = greedy.generate([req("two high beeps"), req("rain on a roof")])
    (alone,) = greedy.generate([req("rain on a roof")])
    batched_wave, _ = decoded(outs[1])
    alone_wave, _ = decoded(alone)
    assert batched_wave.shape == alone_wave.shape and batched_wave.size < wave.size
    np.testing.assert_allclose(batched_wave, alone_wave, atol=1e-3)  # a rounding step at most


def test_agent_renders_its_audio_instruction_with_tts(tiny_vits: Path) -> None:
    tts = TextToAudioGenerator(str(tiny_vits))
    agent = AgentModel(lm=ScriptedModel(default=SECTIONED), image="procedural", audio=tts,
                       video=None)
    offer = "Answer as [[response]]: ... [[image_instruction]]: ... [[audio_instruction]]: ..."
    (out,) = agent.generate([req(offer)])
    assert [p.type for p in out.parts] == ["text", "image", "audio"]
    (direct,) = tts.generate([req("two high beeps")])
    assert wav(out, 2) == wav(direct)
    assert agent.identity()["generators"]["audio"]["adapter"] == "tts"


def wav_files(run: Path, task: str) -> list[Path]:
    return sorted((run / "media" / task).glob("*.wav"))


@pytest.mark.slow
def test_cli_runs_tts_alone_and_as_the_agents_audio_part(tiny_vits: Path, tmp_path: Path) -> None:
    alone = tmp_path / "alone"
    result = CliRunner().invoke(app, [
        "run", "--model", "tts", "--model-args", f"pretrained={tiny_vits}",
        "--tasks", "mini_amg_if_audio", "--limit", "2", "--output-dir", str(alone)])
    assert result.exit_code == 0, result.output
    assert wav_files(alone, "mini_amg_if_audio")
    rows = (alone / "samples" / "mini_amg_if_audio.jsonl").read_text().splitlines()
    assert len(rows) == 2
    results = json.loads((alone / "results.json").read_text())
    assert results["tasks"]["mini_amg_if_audio"]["n_unscored"] == {"instruction_following": 0}

    agent = tmp_path / "agent"
    args = (f"lm=scripted,lm.default={SECTIONED},audio=tts,audio.pretrained={tiny_vits},"
            "image=procedural,video=procedural")
    result = CliRunner().invoke(app, [
        "run", "--model", "agent", "--model-args", args, "--tasks", "mini_amg_modality_synergy",
        "--limit", "2", "--output-dir", str(agent)])
    assert result.exit_code == 0, result.output
    wavs = wav_files(agent, "mini_amg_modality_synergy")
    assert len(wavs) == 2
    assert all(load_audio(AudioPart(path=str(w)))[0].size > 0 for w in wavs)


def test_cli_refuses_a_language_model_folder_before_writing(
    tiny_llama: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, [
        "run", "--model", "tts", "--model-args", f"pretrained={tiny_llama}",
        "--tasks", "mini_amg_if_audio", "--limit", "2", "--output-dir", str(out)])
    assert result.exit_code == 2
    assert "not a text-to-speech or text-to-audio model" in result.output
    assert not out.exists()
