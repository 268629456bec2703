"""vLLM's offline engine (``vllm.LLM``): fast batched generation and log-likelihoods on GPUs.

vLLM is an optional extra (``pip install 'eval-anything[vllm]'``, on a GPU machine, in its own
environment: it pins its own torch and transformers). It is imported only when an engine is
built. Everything between our requests and the engine is pure functions below (engine
arguments, sampling parameters, prompts with multimodal data, output mapping, continuation
log-probabilities), tested on CPUs without vLLM.

- Prompts: the model's chat template (from its processor when it has one, so media placeholders
  are right) renders our messages; images, audio and video frames go in ``multi_modal_data``
  (audio as ``(waveform, sample_rate)``: vLLM resamples to the model's rate; video as a
  ``frames x H x W x 3`` array of ``max_frames`` frames sampled uniformly).
- Multiple choice: each (context, choice) is scored from ``prompt_logprobs`` (the log-prob of
  every prompt token, and its rank) with one generated token. Text prompts are tokenized as the
  ``hf`` adapter and lm-eval's hf backend do, so the three score the same tokens.
- Parallelism: ``tensor_parallel_size`` and ``pipeline_parallel_size`` go to the engine (Ray
  spans nodes when vLLM is set up for it); every other keyword goes to ``vllm.LLM`` as is.
- Request flow: the runner hands the engine ``chunk_size`` requests per call (default 1024;
  0: a task's every request at once), not ``--batch-size``, so its scheduler has work to batch.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from eval_anything.core.content import AudioPart, ImagePart, TextPart, VideoPart
from eval_anything.core.outputs import LoglikelihoodOutput, ModelOutput
from eval_anything.core.requests import (
    GenerateRequest,
    GenerationConfig,
    LoglikelihoodRequest,
    Message,
    RequestFlow,
)
from eval_anything.models.base import ModelAdapter
from eval_anything.models.weights_identity import weights_identity
from eval_anything.registry import register

INSTALL_HINT = (
    "the vllm adapter needs vLLM: pip install 'eval-anything[vllm]' on a CUDA machine (vLLM pins "
    "its own torch; use a separate environment)"
)
# engine arguments that change outputs (the rest only change speed or memory)
_IDENTITY_ARGS = (
    "dtype", "quantization", "max_model_len", "tokenizer", "revision", "kv_cache_dtype",
)


def engine_kwargs(pretrained: str, **args: Any) -> dict[str, Any]:
    """Arguments for ``vllm.LLM``: ours with vLLM's names, None values dropped."""
    out = {"model": pretrained, **{k: v for k, v in args.items() if v is not None}}
    if "max_images" in out:  # convenience: limit_mm_per_prompt={"image": N}
        out.setdefault("limit_mm_per_prompt", {})["image"] = out.pop("max_images")
    return out


_DTYPE_NAMES = {"half": "float16", "float": "float32", "bf16": "bfloat16", "fp16": "float16"}


def engine_dtype(engine: Any, asked: str | None) -> str | None:
    """The dtype the engine computes in, named as torch names it ("bfloat16"): the engine's
    resolved model config when it has one (``dtype=auto`` resolved), else the dtype asked for."""
    resolved = getattr(getattr(getattr(engine, "llm_engine", None), "model_config", None),
                       "dtype", None)
    name = str(resolved if resolved is not None else asked or "auto").replace("torch.", "")
    return _DTYPE_NAMES.get(name, name)


def sampling_kwargs(gen: GenerationConfig) -> dict[str, Any]:
    """Our GenerationConfig -> ``vllm.SamplingParams`` keywords (greedy: temperature 0)."""
    kw: dict[str, Any] = {
        "max_tokens": gen.max_new_tokens,
        "temperature": 0.0 if gen.greedy else gen.temperature,
        "top_p": 1.0 if gen.greedy else gen.top_p,
    }
    if gen.stop:
        kw["stop"] = list(gen.stop)
    if not gen.greedy and gen.seed is not None:
        kw["seed"] = gen.seed
    return kw


SCORING_KWARGS: dict[str, Any] = {"max_tokens": 1, "temperature": 0.0, "prompt_logprobs": 1}


def chat_for_template(messages: list[Message]) -> list[dict[str, Any]]:
    """Messages in the transformers chat-template format, media as typed placeholders."""
    chat = []
    for m in messages:
        content: list[dict[str, Any]] = []
        for p in m.content:
            if isinstance(p, TextPart):
                content.append({"type": "text", "text": p.text})
            else:
                content.append({"type": p.type})
        chat.append({"role": m.role, "content": content})
    return chat


def multi_modal_data(parts: list[Any], max_frames: int) -> dict[str, Any]:
    """Media parts loaded the way vLLM takes them; one item as itself, several as a list."""
    found: dict[str, list[Any]] = {}
    for p in parts:
        if isinstance(p, ImagePart):
            found.setdefault("image", []).append(p.load())
        elif isinstance(p, AudioPart):
            wave, sr = p.load()
            found.setdefault("audio", []).append((np.asarray(wave, dtype=np.float32), sr))
        elif isinstance(p, VideoPart):
            frames = p.load(max_frames=max_frames)
            found.setdefault("video", []).append(np.stack([np.asarray(f) for f in frames]))
    return {k: v[0] if len(v) == 1 else v for k, v in found.items()}


def to_model_output(result: Any, consumed: list[str]) -> ModelOutput:
    """A ``vllm.RequestOutput`` -> our ModelOutput (first completion)."""
    comp = result.outputs[0]
    return ModelOutput(
        parts=[TextPart(text=comp.text)],
        usage={
            "prompt_tokens": len(result.prompt_token_ids or []),
            "completion_tokens": len(comp.token_ids or []),
        },
        consumed_modalities=consumed,
        finish_reason=comp.finish_reason,
    )


def continuation_logprob(
    prompt_logprobs: list[Any], ids: list[int], n_cont: int
) -> tuple[float, bool]:
    """Sum of the log-probs of the last ``n_cont`` prompt tokens, and whether each was the
    model's top choice (rank 1). ``prompt_logprobs[i]`` maps token id -> Logprob for position i
    (None at position 0)."""
    total, greedy = 0.0, True
    for pos in range(len(ids) - n_cont, len(ids)):
        entry = prompt_logprobs[pos][ids[pos]]
        total += float(entry.logprob)
        greedy = greedy and int(entry.rank) == 1
    return total, greedy


@register("model", "vllm")
class VLLMModel(ModelAdapter):
    input_modalities = ("text", "image", "audio", "video")
    supports_loglikelihood = True

    def __init__(
        self,
        pretrained: str,
        revision: str | None = None,
        dtype: str = "auto",
        tensor_parallel_size: int = 1,
        pipeline_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        max_frames: int = 8,
        chat_template: bool = True,
        seed: int = 0,
        trust_remote_code: bool = False,
        name: str | None = None,
        engine: Any = None,
        chunk_size: int | None = 1024,
        **extra: Any,
    ) -> None:
        self.pretrained = pretrained
        self.chunk_size = chunk_size
        self.max_frames = max_frames
        self.use_chat_template = chat_template
        self.add_bos_token = extra.pop("add_bos_token", None)
        self.engine_args = engine_kwargs(
            pretrained, revision=revision, dtype=dtype, tensor_parallel_size=tensor_parallel_size,
            pipeline_parallel_size=pipeline_parallel_size, max_model_len=max_model_len,
            gpu_memory_utilization=gpu_memory_utilization, seed=seed,
            trust_remote_code=trust_remote_code, **extra,
        )
        if engine is None:
            try:
                import vllm
            except ImportError as e:
                raise ImportError(INSTALL_HINT) from e
            engine = vllm.LLM(**self.engine_args)
        self.engine = engine
        self.tokenizer = engine.get_tokenizer()
        self.processor = _processor_or_none(pretrained, trust_remote_code)
        self.max_length = max_model_len or _engine_max_len(engine)
        self._identity = {
            "adapter": "vllm",
            "name": name or pretrained,
            "weights": weights_identity(pretrained, revision),
            "add_bos_token": self.add_bos_token,
            "chat_template": self.chat_template_sha() if chat_template else None,
            **{k: self.engine_args.get(k) for k in _IDENTITY_ARGS if k in self.engine_args},
        }

    def identity(self) -> dict[str, Any]:
        return self._identity

    def model_identity(self) -> dict[str, Any]:
        """The weights and generation settings, as the hf adapter gives them for the same
        checkpoint (dtype resolved the way the engine resolved it)."""
        from eval_anything.models.weights_identity import checkpoint_identity

        return checkpoint_identity(
            {**self._identity, "dtype": engine_dtype(self.engine, self._identity.get("dtype"))}
        )

    def details(self) -> dict[str, Any]:
        return {
            "engine_args": {k: v for k, v in self.engine_args.items() if k != "model"},
            "chat_template_sha256": self.chat_template_sha(),
            "max_frames": self.max_frames,
        }

    # ------------------------------------------------------------------ prompts (hf-compatible)

    def chat_template_sha(self) -> str | None:
        tpl = getattr(self.processor, "chat_template", None) or getattr(
            self.tokenizer, "chat_template", None
        )
        return hashlib.sha256(str(tpl).encode()).hexdigest() if tpl else None

    def render(self, messages: list[Message], add_generation_prompt: bool = True) -> str:
        """Prompt text: the chat template (the processor's when media are present), else the
        text parts joined as the hf adapter joins them."""
        if not (self.use_chat_template and self.chat_template_sha()):
            return _plain(messages, sep="\n")
        has_media = any(not isinstance(p, TextPart) for m in messages for p in m.content)
        templater = self.processor if (has_media and self.processor is not None) else self.tokenizer
        chat: list[dict[str, Any]] = chat_for_template(messages)
        if not has_media:  # text-only templates expect a string content
            chat = [{"role": c["role"], "content": _joined(c["content"])} for c in chat]
        text = templater.apply_chat_template(
            chat, tokenize=False, add_generation_prompt=add_generation_prompt
        )
        return str(text)

    def encode(self, text: str, add_special_tokens: bool | None = None) -> list[int]:
        """As lm-eval's hf backend: tokenizer defaults, no BOS when the text already has it."""
        tok = self.tokenizer
        if add_special_tokens is None:
            add_special_tokens = True if self.add_bos_token is None else self.add_bos_token
            prefix = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
            if prefix is not None and text.startswith(tok.decode(prefix)):
                add_special_tokens = False
        return list(tok.encode(text, add_special_tokens=add_special_tokens))

    def prompt_input(self, messages: list[Message]) -> dict[str, Any]:
        parts = [p for m in messages for p in m.content]
        text = self.render(messages)
        mm = multi_modal_data(parts, self.max_frames)
        if mm:
            return {"prompt": text, "multi_modal_data": mm}
        has_template = self.use_chat_template and self.chat_template_sha() is not None
        special = False if has_template else None  # a chat template writes its own BOS
        return {"prompt_token_ids": self.encode(text, add_special_tokens=special)}

    # ------------------------------------------------------------------ requests

    def request_flow(self, batch_size: int) -> RequestFlow:
        """Chunks of ``chunk_size`` requests per call (0 or None: the whole task), whatever
        ``--batch-size`` says: vLLM's scheduler batches what it is given, so eight prompts a
        call would starve it. A chunk is also what a kill can lose: its records are written
        when it returns."""
        return RequestFlow.chunks(self.chunk_size)

    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]:
        if not requests:
            return []
        prompts = [self.prompt_input(r.messages) for r in requests]
        params = [_sampling_params(sampling_kwargs(r.gen)) for r in requests]
        results = self.engine.generate(prompts, params, use_tqdm=False)
        return [
            to_model_output(res, _consumed(r.messages))
            for res, r in zip(results, requests, strict=True)
        ]

    def loglikelihood(self, requests: list[LoglikelihoodRequest]) -> list[LoglikelihoodOutput]:
        from eval_anything.models.hf_loglik import build_item

        prompts: list[dict[str, Any]] = []
        spans: list[tuple[int, int]] = []  # per request: (first prompt, number of choices)
        tails: list[tuple[list[int] | None, int]] = []  # (token ids when known, choice length)
        for req in requests:
            media = [p for m in req.context for p in m.content if not isinstance(p, TextPart)]
            item = build_item(self, req)
            spans.append((len(prompts), len(item.conts)))
            if media:  # placeholders expand inside vLLM: the choice is scored as the prompt's tail
                templated = req.apply_chat_template and self.use_chat_template
                ctx = self.render(req.context) if templated else _plain(req.context)
                mm = multi_modal_data(media, self.max_frames)
            for cont_text, cont in zip(req.continuations, item.conts, strict=True):
                if media:
                    prompts.append({"prompt": ctx + cont_text, "multi_modal_data": mm})
                    tails.append((None, len(cont)))
                else:
                    ids = item.ctx + cont
                    prompts.append({"prompt_token_ids": ids})
                    tails.append((ids, len(cont)))
        params = [_sampling_params(SCORING_KWARGS)] * len(prompts)
        results = self.engine.generate(prompts, params, use_tqdm=False)
        outs = []
        for start, n in spans:
            lps, greedy, lens = [], [], []
            for k in range(start, start + n):
                known, n_cont = tails[k]
                res = results[k]
                full = list(res.prompt_token_ids) if known is None else known
                lp, g = continuation_logprob(res.prompt_logprobs, full, n_cont)
                lps.append(lp)
                greedy.append(g)
                lens.append(n_cont)
            outs.append(LoglikelihoodOutput(logprobs=lps, greedy=greedy, n_tokens=lens))
        return outs

    def close(self) -> None:
        self.engine = None


def _engine_max_len(engine: Any) -> int:
    """The context length the engine was built with (vLLM reads it from the model config)."""
    cfg = getattr(getattr(engine, "llm_engine", None), "model_config", None)
    n = getattr(cfg, "max_model_len", None)
    return int(n) if isinstance(n, int) and n > 0 else 4096


def _sampling_params(kwargs: dict[str, Any]) -> Any:
    try:
        from vllm import SamplingParams
    except ImportError:  # only reachable with an injected engine (tests): it takes plain dicts
        return dict(kwargs)
    return SamplingParams(**kwargs)


def _processor_or_none(pretrained: str, trust_remote_code: bool) -> Any:
    """The model's processor when it has one (multimodal chat templates), else None."""
    try:
        from transformers import AutoProcessor

        proc = AutoProcessor.from_pretrained(pretrained, trust_remote_code=trust_remote_code)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return proc if hasattr(proc, "tokenizer") else None


def _plain(messages: list[Message], sep: str = "") -> str:
    """Text parts of each message joined by ``sep``, messages by a blank line (as hf does)."""
    texts = [sep.join(p.text for p in m.content if isinstance(p, TextPart)) for m in messages]
    return "\n\n".join(texts)


def _joined(content: list[dict[str, Any]]) -> str:
    return "\n".join(x["text"] for x in content if x.get("type") == "text")


def _consumed(messages: list[Message]) -> list[str]:
    kinds = {p.type for m in messages for p in m.content}
    return [k for k in ("text", "image", "audio", "video") if k in kinds]
