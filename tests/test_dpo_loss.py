"""Our configured DPO trainer computes TRL's losses: checked on fixed tensors against the
formulas written out here independently, and the logged metrics keep TRL's names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from eval_anything.trainers.algorithms.dpo import (
    build_dpo_trainer,
    dpo_arguments,
    should_precompute,
)
from eval_anything.trainers.config import load_train_config
from eval_anything.trainers.data.examples import Pair
from eval_anything.trainers.setup.precision import Precision

BETA = 0.3


def _pairs() -> list[Pair]:
    return [Pair(f"What is {i} + 1?", f"{i + 1}", "cat dog") for i in range(4)]


def _cfg(tmp_path: Path, model: Path, loss: str, **training):  # type: ignore[no-untyped-def]
    return load_train_config(None, "dpo", {
        "model.path": str(model),
        "data.train": "unused.jsonl",
        "training.output_dir": str(tmp_path / f"out-{loss}"),
        "training.precision": "fp32",
        "training.max_steps": 2,
        "training.per_device_train_batch_size": 2,
        "training.save_steps": 100,
        "dpo.beta": BETA,
        "dpo.loss_type": [loss],
        "dpo.precompute_ref_log_probs": True,
        **training,
    })


def _fixed_batch(vocab: int) -> dict[str, torch.Tensor]:
    """Two pairs: rows [chosen0, chosen1, rejected0, rejected1], TRL's batch layout."""
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(4, vocab, (4, 9), generator=g)
    attention = torch.ones_like(ids)
    attention[1, -2:] = 0  # a padded chosen
    attention[3, -1:] = 0  # a padded rejected
    completion = torch.zeros_like(ids)
    completion[:, 4:] = 1  # prompt = first 4 tokens
    completion = completion * attention
    return {
        "input_ids": ids,
        "attention_mask": attention,
        "completion_mask": completion,
        "ref_chosen_logps": torch.tensor([-21.5, -19.0]),
        "ref_rejected_logps": torch.tensor([-20.0, -18.25]),
    }


def _sequence_logps(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum of log p(token) over each row's completion tokens, from plain logits."""
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    token_logp = logp.gather(-1, batch["input_ids"][:, 1:, None]).squeeze(-1)
    return (token_logp * batch["completion_mask"][:, 1:]).sum(dim=1)


def _sigmoid_loss(lp: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """DPO (Rafailov et al.): -log sigmoid(beta * [(pi_c - ref_c) - (pi_r - ref_r)])."""
    chosen, rejected = lp[:2], lp[2:]
    margin = (chosen - batch["ref_chosen_logps"]) - (rejected - batch["ref_rejected_logps"])
    return -F.logsigmoid(BETA * margin).mean()


def _ipo_loss(lp: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """IPO (Azar et al., eq. 17) on per-token averaged log-ratios: (h - 1/(2 tau))^2."""
    n = batch["completion_mask"].sum(dim=1).float()
    ratio = (lp - torch.cat([batch["ref_chosen_logps"], batch["ref_rejected_logps"]])) / n
    h = ratio[:2] - ratio[2:]
    return ((h - 1.0 / (2 * BETA)) ** 2).mean()


@pytest.mark.parametrize("loss,formula", [("sigmoid", _sigmoid_loss), ("ipo", _ipo_loss)])
def test_configured_loss_equals_the_formula(
    tmp_path: Path, tiny_llama: Path, loss: str, formula
) -> None:  # type: ignore[no-untyped-def]
    trainer, precision, _ = build_dpo_trainer(_cfg(tmp_path, tiny_llama, loss), _pairs())
    assert precision.name == "fp32"
    assert trainer.args.loss_type == [loss] and trainer.args.beta == BETA
    batch = _fixed_batch(trainer.model.config.vocab_size)
    trainer.model.eval()
    with torch.no_grad():
        got = trainer.compute_loss(trainer.model, dict(batch))
    want = formula(_sequence_logps(trainer.model, batch), batch)
    assert float(got) == pytest.approx(float(want), rel=1e-5, abs=1e-6)


def test_logged_metrics_keep_trl_names(tmp_path: Path, tiny_llama: Path) -> None:
    trainer, _, _ = build_dpo_trainer(_cfg(tmp_path, tiny_llama, "sigmoid"), _pairs())
    trainer.train()
    logged = [h for h in trainer.state.log_history if "loss" in h]
    assert logged, "nothing was logged"
    for name in ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"):
        assert name in logged[0], f"{name} missing from {sorted(logged[0])}"
    first = logged[0]
    assert first["rewards/margins"] == pytest.approx(
        first["rewards/chosen"] - first["rewards/rejected"], abs=1e-6
    )


def test_loss_variants_and_weights_reach_trl(tmp_path: Path, tiny_llama: Path) -> None:
    cfg = _cfg(tmp_path, tiny_llama, "robust", **{
        "dpo.loss_type": ["sigmoid", "hinge"], "dpo.loss_weights": [0.7, 0.3],
        "dpo.label_smoothing": 0.1,
    })
    args = dpo_arguments(cfg, Precision("fp32", "cpu", "test"), n_pairs=4)
    assert args["loss_type"] == ["sigmoid", "hinge"] and args["loss_weights"] == [0.7, 0.3]
    assert args["bf16"] is False and args["fp16"] is False and args["use_cpu"] is True
    from eval_anything.trainers.setup.trl_arguments import checkpointing_arg

    assert args[checkpointing_arg()] is False


def test_precompute_auto_only_when_every_pair_is_seen(tmp_path: Path, tiny_llama: Path) -> None:
    cfg = _cfg(tmp_path, tiny_llama, "sigmoid", **{"dpo.precompute_ref_log_probs": "auto"})
    assert should_precompute(cfg, n_pairs=4)  # 2 steps x 2 pairs
    assert not should_precompute(cfg, n_pairs=40)  # 4 of 40 pairs: precomputing 40 costs more
    synced = _cfg(tmp_path, tiny_llama, "sigmoid", **{
        "dpo.precompute_ref_log_probs": "auto", "training.trl": {"sync_ref_model": True},
    })
    assert not should_precompute(synced, n_pairs=4)


def test_data_formats_become_the_same_pairs(tmp_path: Path) -> None:
    from eval_anything.trainers.data.formats import resolve_format, to_pairs
    from eval_anything.trainers.data.row_files import read_rows

    rows = {
        "aa.jsonl": {"prompt": "Q", "response_0": "bad", "response_1": "good",
                     "better_response_id": 1},
        "trl.jsonl": {"prompt": "Q", "chosen": "good", "rejected": "bad"},
        "llf.jsonl": {"prompt": "Q", "response": "bad", "refinement": "good"},
        "mm.jsonl": {"question": "Q", "response_1": "good", "response_2": "bad",
                     "overall_response": 1},
    }
    for name, row in rows.items():
        (tmp_path / name).write_text(json.dumps(row) + "\n")
        got = read_rows(tmp_path / name)
        pairs = to_pairs(got, resolve_format(got, "auto", name), name)
        assert (pairs[0].prompt, pairs[0].chosen, pairs[0].rejected) == ("Q", "good", "bad"), name
