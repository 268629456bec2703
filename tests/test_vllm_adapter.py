"""The vllm adapter's request building and output mapping, on the CPU without vLLM.

The only stand-in is the engine (``vllm.LLM``, a GPU process outside ours): ``TransformersEngine``
answers ``generate`` with the same tiny Llama through transformers, in vLLM's output shapes.
Everything else is the adapter's real code, and its multiple-choice scores must equal the hf
adapter's on the same model. The real-engine test is marked ``gpu``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from tiny import build_tiny_llama

from eval_anything.core.content import AudioPart, ImagePart, TextPart, VideoPart
from eval_anything.core.requests import (
    GenerateRequest,
    GenerationConfig,
    LoglikelihoodRequest,
    Message,
)
from eval_anything.media.io import audio_to_wav_bytes, frames_to_gif_bytes, image_to_png_bytes
from eval_anything.models.vllm import (
    VLLMModel,
    chat_for_template,
    continuation_logprob,
    engine_kwargs,
    multi_modal_data,
    sampling_kwargs,
    to_model_output,
)


class TransformersEngine:
    """vLLM's ``LLM.generate`` surface, computed with transformers on the CPU."""

    def __init__(self, folder: Path) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tok = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModelForCausalLM.from_pretrained(folder, dtype="float32").eval()
        self.calls: list[tuple[list[Any], list[Any]]] = []

    def get_tokenizer(self) -> Any:
        return self.tok

    def generate(self, prompts: list[dict[str, Any]], params: list[dict[str, Any]],
                 use_tqdm: bool = False) -> list[Any]:
        self.calls.append((prompts, params))
        return [self._one(p["prompt_token_ids"], sp) for p, sp in zip(prompts, params, strict=True)]

    def _one(self, ids: list[int], sp: dict[str, Any]) -> Any:
        import torch

        with torch.no_grad():
            logits = self.model(torch.tensor([ids])).logits[0]
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        prompt_lps: list[Any] = [None]
        for i in range(1, len(ids)):
            row = logprobs[i - 1]
            lp = float(row[ids[i]])
            rank = 1 + int((row > row[ids[i]]).sum())
            prompt_lps.append({ids[i]: SimpleNamespace(logprob=lp, rank=rank)})
        with torch.no_grad():
            out = self.model.generate(torch.tensor([ids]), max_new_tokens=sp["max_tokens"],
                                      do_sample=False, pad_token_id=self.tok.pad_token_id)
        new = out[0, len(ids):].tolist()
        text = self.tok.decode(new, skip_special_tokens=True)
        finish = "length"
        for s in sp.get("stop", []):
            if s in text:
                text, finish = text.split(s)[0], "stop"
        comp = SimpleNamespace(text=text, token_ids=new, finish_reason=finish)
        return SimpleNamespace(outputs=[comp], prompt_token_ids=ids, prompt_logprobs=prompt_lps)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("vllm") / "tiny")


def mc_requests() -> list[LoglikelihoodRequest]:
    return [
        LoglikelihoodRequest(
            context=[Message(role="user", content=[TextPart(text=f"Question: is {i} red?\nA:")])],
            continuations=[" red", " green", " blue"],
            apply_chat_template=False,
        )
        for i in range(3)
    ]


def test_multiple_choice_scores_equal_hf_adapter(tiny: Path) -> None:
    from eval_anything.models.hf import HFModel

    engine = TransformersEngine(tiny)
    ours = VLLMModel(pretrained=str(tiny), engine=engine).loglikelihood(mc_requests())
    ref = HFModel(pretrained=str(tiny), dtype="float32", device="cpu").loglikelihood(mc_requests())
    for a, b in zip(ours, ref, strict=True):
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)
        assert a.greedy == b.greedy and a.n_tokens == b.n_tokens
    prompts, params = engine.calls[0]
    assert len(prompts) == 9  # one prompt per (item, choice)
    ctx_ids = engine.tok("Question: is 0 red?\nA:").input_ids  # raw text: no chat template
    assert prompts[0]["prompt_token_ids"][: len(ctx_ids)] == ctx_ids
    assert params[0] == {"max_tokens": 1, "temperature": 0.0, "prompt_logprobs": 1}


def test_generate_maps_sampling_params_and_outputs(tiny: Path) -> None:
    engine = TransformersEngine(tiny)
    adapter = VLLMModel(pretrained=str(tiny), engine=engine, seed=3)
    gen = GenerationConfig(max_new_tokens=5, stop=("zzz",))
    outs = adapter.generate([GenerateRequest.from_parts([TextPart(text="Hello")], gen)])
    prompts, params = engine.calls[0]
    assert params == [{"max_tokens": 5, "temperature": 0.0, "top_p": 1.0, "stop": ["zzz"]}]
    chat = [{"role": "user", "content": "Hello"}]
    templated = engine.tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    want = engine.tok(templated, add_special_tokens=False).input_ids
    assert prompts[0]["prompt_token_ids"] == want
    assert outs[0].usage["completion_tokens"] == 5 and outs[0].finish_reason == "length"
    assert outs[0].consumed_modalities == ["text"]
    assert adapter.identity()["adapter"] == "vllm"
    assert "tensor_parallel_size" not in adapter.identity()  # speed, not outputs
    assert adapter.details()["engine_args"]["seed"] == 3


def test_engine_and_sampling_arguments() -> None:
    kw = engine_kwargs("m", tensor_parallel_size=4, pipeline_parallel_size=2, max_model_len=None,
                       max_images=2, enforce_eager=True)
    assert kw == {"model": "m", "tensor_parallel_size": 4, "pipeline_parallel_size": 2,
                  "enforce_eager": True, "limit_mm_per_prompt": {"image": 2}}
    cfg = GenerationConfig(temperature=0.7, top_p=0.9, seed=11, max_new_tokens=9)
    sampled = sampling_kwargs(cfg)
    assert sampled == {"max_tokens": 9, "temperature": 0.7, "top_p": 0.9, "seed": 11}
    greedy = sampling_kwargs(GenerationConfig(top_p=0.5, seed=11))
    assert greedy["temperature"] == 0.0 and greedy["top_p"] == 1.0 and "seed" not in greedy


def test_multimodal_inputs_in_vllm_shapes(tmp_path: Path) -> None:
    from PIL import Image

    img = Image.new("RGB", (40, 30), (255, 0, 0))
    frames = [Image.new("RGB", (16, 12), (i * 20, 0, 0)) for i in range(12)]
    wave = np.sin(np.linspace(0, 100, 8000)).astype(np.float32)
    parts = [
        ImagePart(data=image_to_png_bytes(img)),
        AudioPart(data=audio_to_wav_bytes(wave, 8000)),
        VideoPart(data=frames_to_gif_bytes(frames)),
        TextPart(text="What happens?"),
    ]
    mm = multi_modal_data(parts, max_frames=4)
    assert mm["image"].size == (40, 30)
    audio, sr = mm["audio"]
    assert sr == 8000 and audio.dtype == np.float32 and audio.shape == (8000,)
    assert mm["video"].shape == (4, 12, 16, 3)
    two = multi_modal_data([parts[0], parts[0]], max_frames=4)
    assert isinstance(two["image"], list) and len(two["image"]) == 2
    chat = chat_for_template([Message(role="user", content=parts)])
    assert [c["type"] for c in chat[0]["content"]] == ["image", "audio", "video", "text"]


def test_output_and_logprob_mapping() -> None:
    comp = SimpleNamespace(text="Paris", token_ids=[5, 6], finish_reason="stop")
    out = to_model_output(SimpleNamespace(outputs=[comp], prompt_token_ids=[1, 2, 3]), ["text"])
    assert out.text == "Paris" and out.usage == {"prompt_tokens": 3, "completion_tokens": 2}
    lp = [
        None,
        {7: SimpleNamespace(logprob=-1.0, rank=1)},
        {8: SimpleNamespace(logprob=-2.5, rank=3)},
    ]
    assert continuation_logprob(lp, [1, 7, 8], 2) == (-3.5, False)
    assert continuation_logprob(lp, [1, 7, 8], 1) == (-2.5, False)
    assert continuation_logprob(lp[:2], [1, 7], 1) == (-1.0, True)


def test_missing_vllm_names_the_install(tiny: Path) -> None:
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vLLM is installed here")
    with pytest.raises(ImportError, match=r"eval-anything\[vllm\]"):
        VLLMModel(pretrained=str(tiny))


def _cuda_and_vllm() -> bool:
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda_and_vllm(), reason="needs a CUDA GPU and vLLM")
def test_real_engine_matches_hf_multiple_choice(tiny: Path) -> None:
    from eval_anything.models.hf import HFModel

    ours = VLLMModel(pretrained=str(tiny), dtype="float32", gpu_memory_utilization=0.3,
                     enforce_eager=True).loglikelihood(mc_requests())
    ref = HFModel(pretrained=str(tiny), dtype="float32", device="cuda").loglikelihood(mc_requests())
    for a, b in zip(ours, ref, strict=True):
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-3)
