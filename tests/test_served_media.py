"""Served media output through the CLI against a real server on 127.0.0.1
(``tests/media_server.py``, real PNG and WAV bytes): chat completions that answer in audio,
the ``openai_image`` and ``openai_speech`` generators alone and as agent parts, and their
retries, failure accounting (exit 3, a rerun resends exactly the failed items) and redaction."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
from media_server import MediaServer
from PIL import Image
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.core.content import AudioPart, ImagePart, TextPart
from eval_anything.core.requests import GenerateRequest
from eval_anything.core.results_files import read_results, read_sample_records
from eval_anything.errors import EXIT_ITEMS_FAILED
from eval_anything.models.build import build_adapter
from eval_anything.models.openai import OpenAIModel

FAST = "max_retries=2,backoff_base=0.01,max_backoff=0.01,timeout=5"
# items per task: two prompts each (the audio task asks two questions about each prompt's sound)
LIMIT = {"mini_amg_if_image": 2, "mini_amg_if_audio": 4}


def run(out: Path, model: str, model_args: str, task: str, *extra: str) -> object:
    args = ["run", "--model", model, "--model-args", model_args, "--tasks", task,
            "--limit", str(LIMIT.get(task, 2)), "--output-dir", str(out), "--no-cache",
            "--quiet", *extra]
    return CliRunner().invoke(app, args)


def media_of(out: Path, task: str, kind: type) -> list[Path]:
    """One stored medium per item."""
    records = read_sample_records(out, task)
    assert len(records) == LIMIT[task]
    found = [out / p.path for r in records for p in r.output if isinstance(p, kind)]
    assert len(found) == len(records), [r.output for r in records]
    return found


def text_task(folder: Path) -> Path:
    folder.mkdir()
    (folder / "t.yaml").write_text(
        "task: served_text\nsource: {jsonl: d.jsonl}\nloader: {name: qa}\n"
        "scorers: [{name: exact_match}]\n"
    )
    (folder / "d.jsonl").write_text('{"id": "1", "question": "q one", "answer": "echo: q one"}\n')
    return folder


def test_chat_audio_answers_are_stored_as_wav_and_text_tasks_send_no_audio(
    tmp_path: Path,
) -> None:
    with MediaServer() as srv:
        args = f"base_url={srv.base_url},model=m,audio_voice=alloy,{FAST}"
        result = run(tmp_path / "a", "openai", args, "mini_amg_if_audio")
        assert result.exit_code == 0, (result.output, result.exception)
        assert "cannot emit" not in result.stderr
        sent = srv.bodies("/chat/completions")
        assert len(sent) == 2
        assert all(b["modalities"] == ["text", "audio"] for b in sent)
        assert all(b["audio"] == {"voice": "alloy", "format": "wav"} for b in sent)

        folder = text_task(tmp_path / "tasks")
        text = run(tmp_path / "t", "openai", args, "served_text", "--include-path", str(folder))
        assert text.exit_code == 0, (text.output, text.exception)
        last = srv.bodies("/chat/completions")[-1]
        assert "modalities" not in last and "audio" not in last
    for wav in media_of(tmp_path / "a", "mini_amg_if_audio", AudioPart):
        assert wav.suffix == ".wav"
        wave, sr = sf.read(wav)
        assert sr == 16000 and len(wave) == 4000
    records = read_sample_records(tmp_path / "a", "mini_amg_if_audio")
    assert all(r.output[0].text.startswith("said: ") for r in records)  # type: ignore[union-attr]
    assert read_results(tmp_path / "a").model.output_modalities == ["text", "audio"]
    assert read_results(tmp_path / "t").tasks["served_text"].metrics["exact_match"].value == 1.0


def test_audio_voice_is_in_the_identity_and_text_setups_keep_theirs() -> None:
    plain = OpenAIModel(model="m", base_url="http://127.0.0.1:9/v1")
    voiced = OpenAIModel(model="m", base_url="http://127.0.0.1:9/v1", audio_voice="alloy")
    other = OpenAIModel(model="m", base_url="http://127.0.0.1:9/v1", audio_voice="echo")
    assert "audio_voice" not in plain.identity() and plain.output_modalities == ("text",)
    assert len({plain.identity_hash(), voiced.identity_hash(), other.identity_hash()}) == 3
    with pytest.raises(ValueError, match="audio_format='ogg'"):
        OpenAIModel(model="m", audio_voice="alloy", audio_format="ogg")


def test_openai_image_alone_stores_decodable_pngs(tmp_path: Path) -> None:
    with MediaServer() as srv:
        args = f"base_url={srv.base_url},model=img,size=64x48,quality=hd,{FAST}"
        result = run(tmp_path, "openai_image", args, "mini_amg_if_image")
        assert result.exit_code == 0, (result.output, result.exception)
        sent = srv.bodies("/images/generations")
    assert len(sent) == 2
    assert {k: sent[0][k] for k in ("model", "size", "n", "response_format", "quality")} == {
        "model": "img", "size": "64x48", "n": 1, "response_format": "b64_json", "quality": "hd"}
    pngs = media_of(tmp_path, "mini_amg_if_image", ImagePart)
    images = [Image.open(p) for p in pngs]
    assert all(p.suffix == ".png" for p in pngs) and all(im.format == "PNG" for im in images)
    assert all(im.size == (64, 48) for im in images)
    assert images[0].getpixel((0, 0)) != images[1].getpixel((0, 0))  # one per prompt
    assert read_results(tmp_path).model.output_modalities == ["image"]


def test_openai_speech_as_the_agents_audio_part(tmp_path: Path) -> None:
    with MediaServer() as srv:
        args = ("lm=scripted,lm.default=[[audio_instruction]]: three high beeps,"
                f"audio=openai_speech,audio.base_url={srv.base_url},audio.model=tts-1,"
                "audio.voice=nova,image=none,video=none")
        result = run(tmp_path, "agent", args, "mini_amg_if_audio")
        assert result.exit_code == 0, (result.output, result.exception)
        sent = srv.bodies("/audio/speech")
        assert srv.received[0]["headers"]["accept"].startswith("audio/wav")
    # the two items share the scripted instruction: the agent renders it once per call
    assert sent and all(b == {"model": "tts-1", "input": "three high beeps", "voice": "nova",
                              "response_format": "wav"} for b in sent)
    for wav in media_of(tmp_path, "mini_amg_if_audio", AudioPart):
        wave, sr = sf.read(wav)
        assert sr == 16000 and len(wave) > 0


def test_a_server_failing_twice_then_answering_is_retried(tmp_path: Path) -> None:
    with MediaServer(fail_first=2) as srv:
        args = f"base_url={srv.base_url},model=img,size=32x32,{FAST}"
        result = run(tmp_path, "openai_image", args, "mini_amg_if_image")
        assert result.exit_code == 0, (result.output, result.exception)
        assert len(srv.attempts) == 2 and set(srv.attempts.values()) == {3}
    media_of(tmp_path, "mini_amg_if_image", ImagePart)


@pytest.mark.parametrize("model", ["openai_speech", "openai_image"])
def test_failures_exit_3_rerun_resends_only_them_and_the_key_is_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    key = "sk-media-secret-0123456789"
    monkeypatch.setenv("MEDIA_KEY", key)
    task = "mini_amg_if_audio" if model == "openai_speech" else "mini_amg_if_image"
    with MediaServer(echo_key=True) as probe:  # which prompts the task sends, in order
        run(tmp_path / "probe", model, f"base_url={probe.base_url},model=m", task)
        prompts = list(probe.attempts)
    assert len(prompts) == 2
    failing = prompts[1]
    with MediaServer(fail_prompts=(failing,), echo_key=True) as srv:
        args = f"base_url={srv.base_url},model=m,api_key_env=MEDIA_KEY,{FAST}"
        first = run(tmp_path / "r", model, args, task)
        assert first.exit_code == EXIT_ITEMS_FAILED, (first.output, first.exception)
        failed = LIMIT[task] // 2  # the items of one of the two prompts
        assert f"{failed} of {LIMIT[task]} items failed" in first.stderr
        assert "HTTP 500" in first.stderr
        assert srv.attempts[failing] == 3  # the first attempt and two retries
        assert srv.received[0]["headers"]["authorization"] == f"Bearer {key}"
        assert key not in first.output and "***" in first.stderr
        stored = "".join(p.read_text() for p in (tmp_path / "r").rglob("*.json*"))
        assert key not in stored
        assert read_results(tmp_path / "r").tasks[task].n_failed == failed

        srv.fail_prompts, srv.attempts = (), type(srv.attempts)()
        second = run(tmp_path / "r", model, args, task)
        assert second.exit_code == 0, (second.output, second.exception)
        assert dict(srv.attempts) == {failing: 1}  # exactly the failed item, once
    assert read_results(tmp_path / "r").tasks[task].n_failed == 0
    kind = AudioPart if model == "openai_speech" else ImagePart
    media_of(tmp_path / "r", task, kind)


def test_an_answer_that_is_not_the_medium_fails_its_item() -> None:
    req = GenerateRequest.from_parts([TextPart(text="hello")], output_modalities=("audio",))
    with MediaServer(garbage=True) as srv:
        base = f"base_url={srv.base_url},model=m,max_retries=0"
        adapters = {
            "not audio": build_adapter("openai_speech", base),
            "cannot identify image": build_adapter("openai_image", base),
            "does not decode": build_adapter("openai", base + ",audio_voice=alloy"),
        }
        for reason, adapter in adapters.items():
            out = adapter.generate([req])[0]
            assert out.error is not None and reason in out.error and not out.parts, out
            adapter.close()
        assert len(srv.received) == 3  # a wrong answer is not retried: it would come again
    with pytest.raises(Exception, match="takes no argument 'audio_voice'"):
        build_adapter("openai_speech", "model=m,audio_voice=alloy")
