"""Multiple-choice log-likelihoods with the shared context computed once.

Each item's context and all its choices are packed into one row. A 4D attention mask lets every
choice attend to the context and to its own earlier tokens only, and position ids restart after
the context for every choice, so each choice sees exactly what it would see alone. The LM head
runs only at the positions that predict choice tokens. Tokenization follows lm-eval's hf backend
(trailing context spaces move to the continuation; the continuation is the tail of the joint
encoding), so the choices it scores are token for token the ones lm-eval scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eval_anything.core.outputs import LoglikelihoodOutput
from eval_anything.core.requests import LoglikelihoodRequest


@dataclass
class PackedItem:
    ctx: list[int]
    conts: list[list[int]]

    @property
    def length(self) -> int:
        return len(self.ctx) + sum(len(c) - 1 for c in self.conts)


def encode_pair(adapter: Any, context: str, continuation: str) -> tuple[list[int], list[int]]:
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = adapter.encode(context + continuation)
    ctx = adapter.encode(context)
    return ctx, whole[len(ctx) :]


def build_item(adapter: Any, req: LoglikelihoodRequest) -> PackedItem:
    if req.apply_chat_template and adapter.use_chat_template and adapter.chat_template_sha():
        context = adapter.render(req.context, add_generation_prompt=True)
    else:
        context = "\n\n".join(
            "".join(getattr(p, "text", "") for p in m.content) for m in req.context
        )
    ctx: list[int] = []
    conts: list[list[int]] = []
    for cont in req.continuations:
        if context:
            c_enc, x_enc = encode_pair(adapter, context, cont)
        else:
            tok = adapter.tokenizer
            prefix = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
            c_enc, x_enc = [prefix], adapter.encode(cont, add_special_tokens=False)
        if not x_enc:
            raise ValueError(f"continuation {cont!r} encodes to no tokens")
        ctx = c_enc  # identical for every choice of one item
        conts.append(x_enc)
    budget = adapter.max_length - max(len(c) for c in conts) + 1
    if len(ctx) > budget:
        ctx = ctx[-max(budget, 1) :]
    return PackedItem(ctx, conts)


def score_requests(adapter: Any, requests: list[LoglikelihoodRequest]) -> list[LoglikelihoodOutput]:
    items = [build_item(adapter, r) for r in requests]
    size = adapter.batch_size or 8
    order = sorted(range(len(items)), key=lambda i: -items[i].length)
    out: list[LoglikelihoodOutput | None] = [None] * len(items)
    for start in range(0, len(order), size):
        idx = order[start : start + size]
        for i, res in zip(idx, _score_packed(adapter, [items[i] for i in idx]), strict=True):
            out[i] = res
    return [o for o in out if o is not None]


def _score_packed(adapter: Any, items: list[PackedItem]) -> list[LoglikelihoodOutput]:
    import torch

    model = adapter.model
    width = max(it.length for it in items)
    n = len(items)
    pad = adapter.tokenizer.pad_token_id or 0
    ids = torch.full((n, width), pad, dtype=torch.long)
    pos = torch.zeros((n, width), dtype=torch.long)
    allowed = torch.zeros((n, width, width), dtype=torch.bool)
    targets: list[list[tuple[int, list[int], list[int]]]] = []  # per item, per choice
    for b, it in enumerate(items):
        lc = len(it.ctx)
        ids[b, :lc] = torch.tensor(it.ctx)
        pos[b, :lc] = torch.arange(lc)
        allowed[b, :lc, :lc] = torch.tril(torch.ones(lc, lc, dtype=torch.bool))
        cursor = lc
        per_choice = []
        for cont in it.conts:
            seg = cont[:-1]
            s, e = cursor, cursor + len(seg)
            if seg:
                ids[b, s:e] = torch.tensor(seg)
                pos[b, s:e] = torch.arange(lc, lc + len(seg))
                allowed[b, s:e, :lc] = True
                allowed[b, s:e, s:e] = torch.tril(torch.ones(len(seg), len(seg), dtype=torch.bool))
            # the hidden state predicting cont[t] sits at lc-1 for t=0, else at s+t-1
            where = [lc - 1] + list(range(s, e))
            per_choice.append((b, where, cont))
            cursor = e
        for j in range(cursor, width):  # padding rows attend to themselves (no NaN)
            allowed[b, j, j] = True
        targets.append(per_choice)
    dtype = next(model.parameters()).dtype
    mask = torch.zeros((n, 1, width, width), dtype=dtype)
    mask.masked_fill_(~allowed.unsqueeze(1), torch.finfo(dtype).min)
    dev = adapter.device
    with torch.inference_mode():
        hidden = _hidden_states(model, ids.to(dev), mask.to(dev), pos.to(dev))
        rows = torch.tensor([b for pc in targets for (b, where, _) in pc for _ in where])
        cols = torch.tensor([w for pc in targets for (_, where, _) in pc for w in where])
        logits = _logits_at(model, hidden, rows.to(dev), cols.to(dev))
        logprobs = torch.log_softmax(logits.float(), dim=-1).cpu()
    results = []
    k = 0
    for pc in targets:
        lps, greedy, lens = [], [], []
        for _b, where, cont in pc:
            block = logprobs[k : k + len(where)]
            tgt = torch.tensor(cont)
            lps.append(float(block.gather(1, tgt.unsqueeze(1)).sum()))
            greedy.append(bool((block.argmax(dim=-1) == tgt).all()))
            lens.append(len(cont))
            k += len(where)
        results.append(LoglikelihoodOutput(logprobs=lps, greedy=greedy, n_tokens=lens))
    return results


def _fast_head_ok(model: Any) -> bool:
    cfg = (
        model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    )
    special = ("final_logit_softcapping", "logit_scale", "output_multiplier_scale")
    return (
        hasattr(model, "get_decoder")
        and model.get_output_embeddings() is not None
        and not any(getattr(cfg, a, None) for a in special)
    )


def _hidden_states(model: Any, ids: Any, mask: Any, pos: Any) -> Any:
    if _fast_head_ok(model):
        out = model.get_decoder()(input_ids=ids, attention_mask=mask, position_ids=pos)
        return out.last_hidden_state
    return model(input_ids=ids, attention_mask=mask, position_ids=pos).logits


def _logits_at(model: Any, hidden: Any, rows: Any, cols: Any) -> Any:
    sel = hidden[rows, cols]
    if _fast_head_ok(model):
        return model.get_output_embeddings()(sel)
    return sel
