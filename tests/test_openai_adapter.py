"""The ``openai`` adapter against a real OpenAI-compatible server on 127.0.0.1
(tests/fake_openai_server.py): content format, concurrency, retries, usage, key handling, and a
whole ``evaluate`` run."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fake_openai_server import FakeOpenAIServer, Step
from PIL import Image

from eval_anything import registry
from eval_anything.core.content import AudioPart, ImagePart, TextPart, VideoPart
from eval_anything.core.requests import GenerateRequest, GenerationConfig
from eval_anything.models.openai import OpenAIModel, parse_retry_after

SECRET = "sk-test-4f1c9e0d2b7a"


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


def adapter_for(srv: FakeOpenAIServer, **kw: object) -> OpenAIModel:
    args: dict[str, object] = {"backoff_base": 0.001, "max_backoff": 1.0, **kw}
    return OpenAIModel(base_url=srv.base_url, model="m", api_key_env="EA_TEST_KEY", **args)


def ask(text: str, **gen: object) -> GenerateRequest:
    return GenerateRequest.from_parts([TextPart(text=text)], GenerationConfig(**gen))


def decode_data_url(url: str, mime: str) -> bytes:
    prefix = f"data:{mime};base64,"
    assert url.startswith(prefix), url[:40]
    return base64.b64decode(url[len(prefix) :])


# ------------------------------------------------------------------ text, usage, payload


def test_registered_under_openai() -> None:
    assert registry.get("model", "openai") is OpenAIModel


def test_text_answer_roundtrip_with_generation_config(server: FakeOpenAIServer) -> None:
    server.answers["What is 2+2?"] = "4"
    req = GenerateRequest.from_parts(
        [TextPart(text="What is 2+2?")],
        GenerationConfig(max_new_tokens=16, temperature=0.7, top_p=0.9, stop=("\n",), seed=3),
        system="Be brief.",
    )
    (out,) = adapter_for(server).generate([req])
    assert out.error is None
    assert out.text == "4"
    assert out.finish_reason == "stop"
    assert out.consumed_modalities == ["text"]
    body = server.received[0]["body"]
    assert body["model"] == "m"
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is 2+2?"},
    ]
    assert (body["max_tokens"], body["temperature"], body["top_p"]) == (16, 0.7, 0.9)
    assert (body["stop"], body["seed"]) == (["\n"], 3)


def test_greedy_request_sends_no_seed_or_stop(server: FakeOpenAIServer) -> None:
    adapter_for(server).generate([ask("hello")])
    body = server.received[0]["body"]
    assert "seed" not in body and "stop" not in body
    assert body["temperature"] == 0.0


def test_usage_recorded(server: FakeOpenAIServer) -> None:
    server.answers["one two three"] = "four five"
    (out,) = adapter_for(server).generate([ask("one two three")])
    assert out.usage == {"prompt_tokens": 3, "completion_tokens": 2}


def test_extra_body_and_max_tokens_field_pass_through(server: FakeOpenAIServer) -> None:
    adapter = adapter_for(
        server, extra_body='{"top_k": 20, "repetition_penalty": 1.1}',
        max_tokens_field="max_completion_tokens",
    )
    adapter.generate([ask("x", max_new_tokens=5)])
    body = server.received[0]["body"]
    assert body["top_k"] == 20 and body["repetition_penalty"] == 1.1
    assert body["max_completion_tokens"] == 5 and "max_tokens" not in body
    assert adapter.identity()["extra_body"] == {"top_k": 20, "repetition_penalty": 1.1}


# ------------------------------------------------------------------ media content parts


def write_png(path: Path, color: tuple[int, int, int] = (200, 10, 10)) -> Path:
    Image.new("RGB", (6, 4), color).save(path, format="PNG")
    return path


def test_image_and_audio_parts_arrive_in_openai_format(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    png = write_png(tmp_path / "red.png")
    wav = tmp_path / "tone.wav"
    tone = (0.3 * np.sin(np.linspace(0, 40 * np.pi, 1600))).astype(np.float32)
    sf.write(wav, tone, 16000, subtype="PCM_16")
    req = GenerateRequest.from_parts(
        [ImagePart(path=str(png)), AudioPart(path=str(wav)), TextPart(text="Describe both.")]
    )
    (out,) = adapter_for(server).generate([req])
    assert out.error is None and out.text == "echo: Describe both."
    assert out.consumed_modalities == ["image", "audio", "text"]
    content = server.received[0]["body"]["messages"][-1]["content"]
    assert [c["type"] for c in content] == ["image_url", "input_audio", "text"]
    assert decode_data_url(content[0]["image_url"]["url"], "image/png") == png.read_bytes()
    assert content[1]["input_audio"]["format"] == "wav"
    assert base64.b64decode(content[1]["input_audio"]["data"]) == wav.read_bytes()
    assert content[2] == {"type": "text", "text": "Describe both."}


def test_other_image_and_audio_formats_are_reencoded(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    bmp = tmp_path / "blue.bmp"
    Image.new("RGB", (5, 3), (0, 0, 250)).save(bmp, format="BMP")
    flac = tmp_path / "noise.flac"
    sf.write(flac, np.linspace(-0.5, 0.5, 800, dtype=np.float32), 8000, format="FLAC")
    req = GenerateRequest.from_parts([ImagePart(path=str(bmp)), AudioPart(path=str(flac))])
    (out,) = adapter_for(server).generate([req])
    assert out.error is None
    img_part, audio_part = server.received[0]["body"]["messages"][-1]["content"]
    img = Image.open(io.BytesIO(decode_data_url(img_part["image_url"]["url"], "image/png")))
    assert img.size == (5, 3) and img.getpixel((0, 0)) == (0, 0, 250)
    assert audio_part["input_audio"]["format"] == "wav"
    wave, sr = sf.read(io.BytesIO(base64.b64decode(audio_part["input_audio"]["data"])))
    assert sr == 8000 and len(wave) == 800


def test_video_is_sent_as_sampled_frames(server: FakeOpenAIServer, tmp_path: Path) -> None:
    gif = tmp_path / "clip.gif"
    frames = [Image.new("RGB", (8, 8), (i * 20, 0, 0)) for i in range(12)]
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    req = GenerateRequest.from_parts([VideoPart(path=str(gif)), TextPart(text="What moves?")])
    (out,) = adapter_for(server, video_frames=8).generate([req])
    assert out.error is None
    assert out.consumed_modalities == ["video", "text"]
    content = server.received[0]["body"]["messages"][-1]["content"]
    assert [c["type"] for c in content] == ["image_url"] * 8 + ["text"]
    first = Image.open(io.BytesIO(decode_data_url(content[0]["image_url"]["url"], "image/jpeg")))
    assert first.size == (8, 8)


def test_missing_media_file_fails_only_its_request(server: FakeOpenAIServer) -> None:
    bad = GenerateRequest.from_parts([ImagePart(path="/nonexistent/x.png"), TextPart(text="a")])
    outs = adapter_for(server).generate([bad, ask("fine")])
    assert outs[0].error is not None and "not found" in outs[0].error and outs[0].parts == []
    assert outs[1].text == "echo: fine"


# ------------------------------------------------------------------ concurrency and order


def test_concurrency_is_bounded_and_order_kept() -> None:
    # The first 3 requests wait at the server until 3 are in flight together, so a correct
    # client reaches exactly 3; an unbounded one would pile up all 12.
    with FakeOpenAIServer(hold_first=3, delay=0.02) as srv:
        outs = adapter_for(srv, max_concurrency=3).generate([ask(f"q{i}") for i in range(12)])
    assert srv.max_in_flight == 3
    assert [o.text for o in outs] == [f"echo: q{i}" for i in range(12)]


def test_generate_works_inside_a_running_event_loop(server: FakeOpenAIServer) -> None:
    adapter = adapter_for(server)

    async def notebook_cell() -> str:
        return adapter.generate([ask("from a loop")])[0].text

    assert asyncio.run(notebook_cell()) == "echo: from a loop"


# ------------------------------------------------------------------ retries


def test_429_is_retried_honouring_retry_after(
    server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.plan(
        "busy",
        Step(status=429, headers={"Retry-After": "0.05"}, message="rate limited"),
        Step(status=429, headers={"retry-after-ms": "30"}, message="rate limited"),
    )
    # backoff_base is huge: only the server's Retry-After can make the waits short
    adapter = adapter_for(server, backoff_base=30.0, max_backoff=60.0)
    with caplog.at_level(logging.WARNING, logger="eval_anything.models.openai"):
        (out,) = adapter.generate([ask("busy")])
    assert out.error is None and out.text == "echo: busy"
    assert server.attempts["busy"] == 3
    waits = [r.getMessage() for r in caplog.records]
    assert "HTTP 429" in waits[0] and waits[0].endswith("in 0.050 s")
    assert waits[1].endswith("in 0.030 s")


def test_5xx_gives_error_output_after_max_retries(server: FakeOpenAIServer) -> None:
    server.plan("down", *[Step(status=500, message="engine crashed")] * 10)
    (out,) = adapter_for(server, max_retries=2).generate([ask("down")])
    assert out.parts == [] and out.text == ""
    assert out.error is not None
    assert "HTTP 500" in out.error and "engine crashed" in out.error
    assert "gave up after 3 attempts" in out.error
    assert server.attempts["down"] == 3


def test_400_fails_fast_without_retry(server: FakeOpenAIServer) -> None:
    server.plan("bad", Step(status=400, message="max_tokens is too large"))
    (out,) = adapter_for(server, max_retries=5).generate([ask("bad")])
    assert out.error is not None and "HTTP 400" in out.error
    assert "max_tokens is too large" in out.error
    assert server.attempts["bad"] == 1


def test_timeout_is_retried(server: FakeOpenAIServer) -> None:
    server.plan("slow", Step(hang=3.0))
    (out,) = adapter_for(server, timeout=1.0, max_retries=3).generate([ask("slow")])
    assert out.error is None and out.text == "echo: slow"
    assert server.attempts["slow"] >= 2  # the first attempt timed out; a loaded CI box may add one


def test_connection_refused_gives_error_output() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nobody listens there
    adapter = OpenAIModel(
        base_url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=1, backoff_base=0.001
    )
    (out,) = adapter.generate([ask("anyone?")])
    assert out.error is not None and "connection error" in out.error
    assert "gave up after 2 attempts" in out.error


def test_retry_after_forms_and_backoff_bounds() -> None:
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "soon"}) is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < (parse_retry_after({"retry-after": later}) or 0) <= 30
    adapter = OpenAIModel(model="m", backoff_base=1.0, max_backoff=5.0)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (5, 5.0)]:
        d = adapter.retry_delay(attempt, None)
        assert ceiling / 2 <= d <= ceiling
    assert adapter.retry_delay(0, 120.0) == 5.0  # a Retry-After is capped too


# ------------------------------------------------------------------ the API key


def test_api_key_sent_in_header_but_never_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EA_TEST_KEY", SECRET)
    with FakeOpenAIServer(required_key=SECRET) as srv:
        adapter = adapter_for(srv)
        (out,) = adapter.generate([ask("hi")])
        assert out.error is None
        assert srv.received[0]["headers"]["authorization"] == f"Bearer {SECRET}"
    kept = json.dumps([adapter.identity(), adapter.details(), vars(adapter)], default=str)
    assert SECRET not in kept
    assert SECRET not in out.model_dump_json()


def test_wrong_key_fails_fast_with_hint_and_no_key_in_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EA_TEST_KEY", SECRET)
    with FakeOpenAIServer(required_key="sk-other") as srv:
        (out,) = adapter_for(srv).generate([ask("hi")])
    assert out.error is not None and "HTTP 401" in out.error and "$EA_TEST_KEY" in out.error
    assert SECRET not in out.error
    assert srv.attempts["hi"] == 1


def test_no_authorization_header_without_a_key(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EA_TEST_KEY", raising=False)
    adapter_for(server).generate([ask("local")])
    assert "authorization" not in server.received[0]["headers"]


def test_bad_args_name_the_field_and_fix() -> None:
    with pytest.raises(ValueError, match="api_key_env"):
        OpenAIModel(model="m", api_key=SECRET)
    with pytest.raises(ValueError, match="'model' is required"):
        OpenAIModel()
    with pytest.raises(ValueError, match="http://"):
        OpenAIModel(model="m", base_url="localhost:8000/v1")
    with pytest.raises(ValueError, match="extra_body"):
        OpenAIModel(model="m", extra_body="{top_k: 20")
    for bad in ({"max_response_bytes": 0}, {"request_deadline": -1.0}, {"timeout": 0.0}):
        with pytest.raises(ValueError, match="timeout, request_deadline and max_response_bytes"):
            OpenAIModel(model="m", **bad)  # type: ignore[arg-type]


def test_answer_bounds_are_typed_model_args() -> None:
    from eval_anything.model_args import ModelArgsError, split_model_args, typed_model_args

    args = typed_model_args(
        OpenAIModel, split_model_args("model=m,max_response_bytes=1048576,request_deadline=90")
    )
    assert args["max_response_bytes"] == 1048576 and args["request_deadline"] == 90.0
    with pytest.raises(ModelArgsError, match="max_response_bytes=64MiB: expected int"):
        typed_model_args(OpenAIModel, split_model_args("model=m,max_response_bytes=64MiB"))


def test_identity_and_details() -> None:
    a = OpenAIModel(base_url="http://h:8000/v1/", model="qwen", max_concurrency=2)
    b = OpenAIModel(base_url="http://h:8000/v1", model="qwen", max_concurrency=32)
    assert a.identity()["base_url"] == "http://h:8000/v1" and a.identity()["model"] == "qwen"
    assert a.details() == {"base_url": "http://h:8000/v1", "model": "qwen"}
    assert a.identity_hash() == b.identity_hash()  # speed knobs do not split the cache
    bounded = OpenAIModel(base_url="http://h:8000/v1", model="qwen", max_response_bytes=1024,
                          request_deadline=5.0, timeout=2.0)
    assert bounded.identity_hash() == a.identity_hash()  # nor do the bounds on an answer
    assert OpenAIModel(base_url="http://h:8000/v1", model="llama").identity_hash() != (
        a.identity_hash()
    )
    with pytest.raises(NotImplementedError):
        a.loglikelihood([])


# ------------------------------------------------------------------ end to end


TASK_YAML = """\
task: tiny_openai_qa
version: "1"
source:
  jsonl: tiny.jsonl
loader:
  name: qa
generation:
  max_new_tokens: 8
scorers:
  - name: exact_match
"""


def test_evaluate_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import eval_anything

    monkeypatch.setenv("EA_TEST_KEY", SECRET)
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "tiny.yaml").write_text(TASK_YAML)
    rows = [
        {"id": "a", "question": "Capital of France?", "answer": "Paris"},
        {"id": "b", "question": "2+3?", "answer": "5"},
        {"id": "c", "question": "Color of the sky?", "answer": "blue"},
    ]
    (tasks / "tiny.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    answers = {"Capital of France?": "Paris", "2+3?": "5", "Color of the sky?": "green"}
    out_dir = tmp_path / "run"
    with FakeOpenAIServer(answers=answers, required_key=SECRET) as srv:
        base_url = srv.base_url
        results = eval_anything.evaluate(
            model="openai",
            model_args={"base_url": base_url, "model": "m", "api_key_env": "EA_TEST_KEY"},
            tasks=["tiny_openai_qa"],
            include_paths=[tasks],
            cache_path=None,
            output_dir=out_dir,
            progress=False,
        )
    assert len(srv.received) == 3
    written = (out_dir / "results.json").read_text()
    assert SECRET not in written
    data = json.loads(written)
    assert data["model"]["details"] == {"base_url": base_url, "model": "m"}
    task = results.tasks["tiny_openai_qa"]
    assert task.n == 3
    assert task.metrics["exact_match"].value == pytest.approx(2 / 3)
    log = (out_dir / "samples" / "tiny_openai_qa.jsonl").read_text()
    records = [json.loads(line) for line in log.splitlines()]
    assert {r["sample_id"]: r["usage"]["completion_tokens"] for r in records} == {
        "a": 1, "b": 1, "c": 1
    }
    assert all(SECRET not in json.dumps(r) for r in records)
