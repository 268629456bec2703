"""DPO on a CPU computes log-probs from full logits instead of TRL's chunked head: same values,
same gradients, same trainer metrics; the swap is on by default on a CPU and can be turned off."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from eval_anything.trainers.data.examples import Pair

FIELDS = ("log_probs", "entropy", "mean_logits", "is_top1", "log_sum_sq_probs", "label_mask")


def _patched_pair(model_dir: Path) -> tuple[torch.nn.Module, torch.nn.Module]:
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    from eval_anything.trainers.setup.cpu_lm_head import use_full_logits_head

    outputs = ("log_probs", "entropy", "mean_logits", "is_top1", "log_sum_sq_probs")
    fused = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    full = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    add_fused_lm_head(fused, outputs=outputs)
    add_fused_lm_head(full, outputs=outputs)
    assert use_full_logits_head(full, outputs)
    return fused, full


def test_full_logits_head_equals_trls_chunked_head(tiny_llama: Path) -> None:
    fused, full = _patched_pair(tiny_llama)
    torch.manual_seed(0)
    ids = torch.randint(3, fused.config.vocab_size, (3, 12))
    attn = torch.ones_like(ids)
    attn[2, 9:] = 0
    labels = ids.clone()
    labels[:, :5] = -100  # prompt
    labels[2, 9:] = -100  # padding
    a = fused(input_ids=ids, attention_mask=attn, labels=labels, fused_lm_head=True)
    b = full(input_ids=ids, attention_mask=attn, labels=labels, fused_lm_head=True)
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if x.dtype == torch.bool:
            assert torch.equal(x, y), name
        else:
            torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-5, msg=name)
    torch.testing.assert_close(a.loss, b.loss)
    a.log_probs.sum().backward()
    b.log_probs.sum().backward()
    for (name, p), q in zip(fused.named_parameters(), full.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6, msg=name)
    # without the flag it is the model's ordinary forward
    plain = full(input_ids=ids, attention_mask=attn)
    assert plain.logits.shape == (3, 12, full.config.vocab_size)


def test_scaled_logits_keep_trls_head(tiny_llama: Path) -> None:
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    from eval_anything.trainers.setup.cpu_lm_head import use_full_logits_head

    model = AutoModelForCausalLM.from_pretrained(tiny_llama)
    assert not use_full_logits_head(model)  # not patched by TRL: nothing to replace
    model.config.final_logit_softcapping = 30.0
    add_fused_lm_head(model)
    assert not use_full_logits_head(model)


@pytest.mark.parametrize("choice", ["auto", "fused"])
def test_dpo_trainer_on_cpu_uses_full_logits_unless_told(
    tiny_llama: Path, tmp_path: Path, choice: str
) -> None:
    from eval_anything.trainers.algorithms.dpo import build_dpo_trainer
    from eval_anything.trainers.config import load_train_config
    from eval_anything.trainers.setup.cpu_lm_head import trl_patched

    cfg = load_train_config(None, "dpo", {
        "model.path": str(tiny_llama), "data.train": "pairs",
        "training.output_dir": str(tmp_path / "out"), "training.max_steps": 2,
        "training.per_device_train_batch_size": 2, "training.save_steps": 100,
        "training.learning_rate": 1e-3, "training.max_length": 64, "dpo.lm_head": choice,
        "training.trl": {"disable_tqdm": True, "save_strategy": "no", "bf16": False},
    })
    pairs = [Pair(f"question {i}", f"good answer {i}", f"bad reply {i} no") for i in range(4)]
    trainer, _, _ = build_dpo_trainer(cfg, pairs)
    assert trl_patched(trainer.model) == (choice == "fused")
    trainer.train()
    logged = {k for h in trainer.state.log_history for k in h}
    assert {"rewards/chosen", "rewards/margins", "rewards/accuracies", "entropy",
            "mean_token_accuracy", "logits/chosen"} <= logged
