"""An lm-eval ``LM`` backed by any eval-anything model adapter.

Two uses: ``run_lm_eval_task`` wraps the adapter of a run in it so lm-eval's own task
definitions run through our adapters; and lm-eval's command line can load it by name::

    lm_eval run --model eval-anything --model_args adapter=hf,pretrained=DIR --tasks ...

lm-eval finds it through the entry point ``eval-anything`` in the group ``lm_eval.models``
(lm-eval releases that read model entry points), or after ``import
eval_anything.integrations.lm_eval_model`` (which registers it), or through
``python -m eval_anything.integrations.lm_eval_cli`` (lm-eval's CLI with the model registered).

lm-eval hands over finished prompt strings (with its own chat template applied when asked), so
every request goes to the adapter as *raw text*: ``apply_chat_template=False``. Requests that
share a context are sent as one multi-continuation log-likelihood request (the hf adapter then
computes the shared context once).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import lm_eval.models  # noqa: F401  (lm-eval's own models first: it loads them only into an empty registry)
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from eval_anything.core.content import TextPart
from eval_anything.core.requests import (
    GenerateRequest,
    GenerationConfig,
    LoglikelihoodRequest,
    Message,
)
from eval_anything.models.base import ModelAdapter
from eval_anything.progress import ProgressReporter

log = logging.getLogger(__name__)
LM_EVAL_MODEL_NAME = "eval-anything"
DEFAULT_MAX_GEN_TOKS = 256  # lm-eval's default for generate_until
CHUNK = 64  # requests per adapter call: bounds memory, lets lm-eval show progress


def _accepts(cls: type, arg: str) -> bool:
    params = inspect.signature(cls).parameters
    return arg in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def build_adapter_for_lm_eval(
    adapter: str, adapter_args: dict[str, Any], batch_size: Any = None, device: Any = None
) -> ModelAdapter:
    """Our adapter from lm-eval ``--model_args``; lm-eval's ``--batch_size``/``--device`` are
    passed on when the adapter takes them and ``--model_args`` did not set them."""
    from eval_anything.models.build import adapter_class, build_adapter

    cls = adapter_class(adapter, where="--model_args adapter")
    args = dict(adapter_args)
    if isinstance(batch_size, int) and "batch_size" not in args and _accepts(cls, "batch_size"):
        args["batch_size"] = batch_size
    device = usable_device(device)
    if device is not None and "device" not in args and _accepts(cls, "device"):
        args["device"] = device
    return build_adapter(adapter, args, where="--model_args")


def usable_device(device: Any) -> Any:
    """lm-eval's ``--device`` defaults to ``cuda:0`` even on a machine without CUDA, where
    moving the model there fails ("Found no NVIDIA driver"). Without CUDA a CUDA device is
    dropped (with a warning) and the adapter picks the device, as ``eval-anything run`` does."""
    if not (isinstance(device, str) and device.startswith("cuda")):
        return device
    import torch

    if torch.cuda.is_available():
        return device
    log.warning("--device %s: CUDA is not available on this machine; the adapter picks the "
                "device (the CPU)", device)
    return None


@register_model(LM_EVAL_MODEL_NAME)
class EvalAnythingLM(LM):
    """lm-eval's model interface over an eval-anything adapter."""

    def __init__(
        self,
        adapter: str | ModelAdapter = "hf",
        batch_size: Any = None,
        max_batch_size: Any = None,
        device: Any = None,
        **adapter_args: Any,
    ) -> None:
        super().__init__()
        if isinstance(adapter, ModelAdapter):
            self.adapter = adapter
        else:
            self.adapter = build_adapter_for_lm_eval(adapter, adapter_args, batch_size, device)
        self.chunk = batch_size if isinstance(batch_size, int) and batch_size > CHUNK else CHUNK

    # ------------------------------------------------------------------ lm-eval requests

    def loglikelihood(
        self, requests: list[Any], disable_tqdm: bool = False
    ) -> list[tuple[float, bool]]:
        pairs = [(str(r.args[0]), str(r.args[1])) for r in requests]
        groups = list(_group_by_context(pairs))
        out: list[tuple[float, bool]] = [(0.0, False)] * len(pairs)
        with _progress("lm-eval loglikelihood", len(pairs), disable_tqdm) as bar:
            for start in range(0, len(groups), self.chunk):
                block = groups[start : start + self.chunk]
                reqs = [
                    LoglikelihoodRequest(
                        context=[_user(ctx)],
                        continuations=[pairs[i][1] for i in idx],
                        apply_chat_template=False,
                    )
                    for ctx, idx in block
                ]
                for (_ctx, idx), res in zip(block, self.adapter.loglikelihood(reqs), strict=True):
                    for k, i in enumerate(idx):
                        out[i] = (float(res.logprobs[k]), bool(res.greedy[k]))
                    bar.advance(len(idx))
        return out

    def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[float]:
        raise NotImplementedError(
            "lm-eval perplexity tasks (loglikelihood_rolling) need token-window scoring that the "
            "eval-anything adapter protocol does not offer; run them with lm-eval's own backend "
            "(lm_eval --model hf)"
        )

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        """Greedy or sampled generation; requests are grouped by their generation settings
        (an adapter batch shares one config), and the text is cut at lm-eval's stop strings."""
        items = [(str(r.args[0]), dict(r.args[1] or {})) for r in requests]
        configs = [lm_eval_gen_config(kw) for _ctx, kw in items]
        out: list[str] = [""] * len(items)
        by_config: dict[GenerationConfig, list[int]] = {}
        for i, cfg in enumerate(configs):
            by_config.setdefault(cfg, []).append(i)
        with _progress("lm-eval generate_until", len(items), disable_tqdm) as bar:
            for cfg, idx in by_config.items():
                for start in range(0, len(idx), self.chunk):
                    block = idx[start : start + self.chunk]
                    reqs = [raw_generate_request(items[i][0], cfg) for i in block]
                    for i, res in zip(block, self.adapter.generate(reqs), strict=True):
                        if res.error:
                            raise RuntimeError(f"model adapter failed on a request: {res.error}")
                        out[i] = cut_at_stop(res.text, cfg.stop)
                    bar.advance(len(block))
        return out

    # ------------------------------------------------------------------ chat templates

    @property
    def tokenizer_name(self) -> str:
        return self.adapter.name.replace("/", "__")

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        tok = getattr(self.adapter, "tokenizer", None)
        return getattr(tok, "chat_template", None) if chat_template else None

    def apply_chat_template(
        self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True
    ) -> str:
        tok = getattr(self.adapter, "tokenizer", None)
        if tok is None or not getattr(tok, "chat_template", None):
            raise NotImplementedError(
                f"adapter {type(self.adapter).__name__} has no tokenizer chat template; run "
                "lm-eval without --apply_chat_template"
            )
        return str(
            tok.apply_chat_template(
                chat_history, tokenize=False, add_generation_prompt=add_generation_prompt
            )
        )

    def get_model_info(self) -> dict[str, Any]:
        return {
            "eval_anything_adapter": self.adapter.identity(),
            "identity": self.adapter.identity_hash(),
        }


# ---------------------------------------------------------------------- pure helpers


def _user(text: str) -> Message:
    return Message(role="user", content=[TextPart(text=text)])


def _group_by_context(pairs: list[tuple[str, str]]) -> Iterator[tuple[str, list[int]]]:
    """Consecutive requests with one context (the choices of one multiple-choice item)."""
    cur: str | None = None
    idx: list[int] = []
    for i, (ctx, _cont) in enumerate(pairs):
        if ctx != cur and idx:
            yield cur or "", idx
            idx = []
        cur = ctx
        idx.append(i)
    if idx:
        yield cur or "", idx


def lm_eval_gen_config(kwargs: dict[str, Any]) -> GenerationConfig:
    """lm-eval ``generation_kwargs`` -> our GenerationConfig (greedy unless ``do_sample``)."""
    until = kwargs.get("until") or []
    stop = (until,) if isinstance(until, str) else tuple(str(s) for s in until)
    do_sample = bool(kwargs.get("do_sample", False))
    temperature = float(kwargs.get("temperature", 0.0) or 0.0)
    return GenerationConfig(
        max_new_tokens=int(kwargs.get("max_gen_toks", DEFAULT_MAX_GEN_TOKS)),
        temperature=temperature if do_sample and temperature > 0 else (1.0 if do_sample else 0.0),
        top_p=float(kwargs.get("top_p", 1.0) or 1.0),
        stop=stop,
    )


def raw_generate_request(prompt: str, gen: GenerationConfig) -> GenerateRequest:
    """A finished prompt string, to be sent without our chat template."""
    req = GenerateRequest.from_parts([TextPart(text=prompt)], gen)
    if "apply_chat_template" in GenerateRequest.model_fields:
        req = req.model_copy(update={"apply_chat_template": False})
    return req


def cut_at_stop(text: str, stop: tuple[str, ...]) -> str:
    """lm-eval keeps the text before the first stop string (split on each, keep the head)."""
    for s in stop:
        if s:
            text = text.split(s)[0]
    return text


@contextmanager
def _progress(what: str, total: int, disabled: bool) -> Iterator[Any]:
    """A bar (requests done, rate, time remaining) over one lm-eval request type, on stderr."""
    reporter = ProgressReporter(enabled=not disabled and total > 0)
    try:
        yield reporter.task(what, total=total)
    finally:
        reporter.close()
