"""The clip adapter (open_clip and transformers backends, tiny models saved locally) on the
contrastive starter tasks, and the contrastive scores and metrics on known inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eval_anything import evaluate
from eval_anything.core.content import ImagePart, TextPart
from eval_anything.core.requests import LoglikelihoodRequest, Message
from eval_anything.models.clip import ClipModel, resolve_backend
from eval_anything.scoring.base import MetricInput
from eval_anything.scoring.contrastive import (
    rank_of_best_positive,
    retrieval_recall_metric,
    text_to_image_hits,
)
from eval_anything.spec.catalog import bundled_tasks_dir

OPEN_CLIP_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 24, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def build_open_clip(folder: Path) -> Path:
    """A tiny open_clip.CLIP saved as open_clip's local folder format (config + safetensors)."""
    import open_clip
    import safetensors.torch
    import torch

    torch.manual_seed(0)
    model = open_clip.CLIP(**OPEN_CLIP_CFG)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = {"model_cfg": OPEN_CLIP_CFG, "preprocess_cfg": {"mean": CLIP_MEAN, "std": CLIP_STD}}
    (folder / "open_clip_config.json").write_text(json.dumps(cfg))
    safetensors.torch.save_file(model.state_dict(), str(folder / "open_clip_model.safetensors"))
    return folder


def build_hf_clip(folder: Path) -> Path:
    """A tiny transformers CLIPModel with a byte-level tokenizer and CLIPImageProcessor."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        ["a photo of a red circle", "green square blue triangle on a white background"],
        trainers.BpeTrainer(vocab_size=300, special_tokens=["<|startoftext|>", "<|endoftext|>"],
                            initial_alphabet=pre_tokenizers.ByteLevel.alphabet()),
    )
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|startoftext|>",
                                   eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    cfg = CLIPConfig(
        text_config={"vocab_size": len(fast), "hidden_size": 32, "intermediate_size": 64,
                     "num_hidden_layers": 2, "num_attention_heads": 2,
                     "max_position_embeddings": 48, "bos_token_id": fast.bos_token_id,
                     "eos_token_id": fast.eos_token_id, "pad_token_id": fast.pad_token_id},
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                       "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
        projection_dim=32,
    )
    torch.manual_seed(0)
    CLIPModel(cfg).save_pretrained(folder)
    fast.save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32},
                       image_mean=CLIP_MEAN, image_std=CLIP_STD).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clip")
    return {"open_clip": build_open_clip(root / "oc"), "hf": build_hf_clip(root / "hf")}


def run_task(adapter: ClipModel, task: str, out: Path, shard: str | None = None) -> Any:
    return evaluate("clip", [task], output_dir=out, cache_path=None, progress=False,
                    adapter=adapter, shard=shard)


@pytest.mark.parametrize("backend", ["open_clip", "hf"])
def test_zero_shot_task_runs_with_tiny_clip(models: dict[str, Path], backend: str,
                                            tmp_path: Path) -> None:
    adapter = ClipModel(pretrained=str(models[backend]), device="cpu")
    assert adapter.backend_name == ("open_clip" if backend == "open_clip" else "transformers")
    res = run_task(adapter, "mini_zero_shot_shapes", tmp_path / "run")
    tr = res.tasks["mini_zero_shot_shapes"]
    assert tr.n == 18 and tr.n_unscored == {"top1": 0, "top3": 0}
    assert 0.0 <= tr.metrics["top1"].value <= tr.metrics["top3"].value <= 1.0
    assert tr.metrics["top1"].stderr is not None
    assert res.model.details["backend"] == adapter.backend_name


def test_scores_are_scaled_cosines(models: dict[str, Path]) -> None:
    """The adapter's choice scores equal logit_scale * cos computed directly with open_clip."""
    import open_clip
    import torch

    adapter = ClipModel(pretrained=str(models["open_clip"]), device="cpu")
    image = bundled_tasks_dir() / "mini" / "contrastive" / "images" / "zs-0-0.png"
    texts = ["a photo of a red circle.", "a photo of a blue square."]
    req = LoglikelihoodRequest(
        context=[Message(role="user", content=[ImagePart(path=str(image)), TextPart(text="?")])],
        continuations=texts,
    )
    got = adapter.loglikelihood([req])[0]
    name = f"local-dir:{models['open_clip']}"
    model, _, pre = open_clip.create_model_and_transforms(name)
    tok = open_clip.get_tokenizer(name)
    with torch.no_grad():
        pixels = pre(ImagePart(path=str(image)).load()).unsqueeze(0)
        img = model.encode_image(pixels, normalize=True)
        txt = model.encode_text(tok(texts), normalize=True)
        want = (model.logit_scale.exp() * img @ txt.T)[0].tolist()
    assert got.logprobs == pytest.approx(want, abs=1e-5)
    assert got.greedy == [want[0] > want[1], want[1] > want[0]]
    out = adapter.generate([])  # writes no text; a generate task gets errors, never fake answers
    assert out == []


def test_retrieval_shards_merge_to_unsharded(models: dict[str, Path], tmp_path: Path) -> None:
    """Text-to-image recall is a metric over all records: merged shards give the whole value."""
    from eval_anything.run.merge import merge_runs

    adapter = ClipModel(pretrained=str(models["open_clip"]), device="cpu")
    full = run_task(adapter, "mini_image_text_retrieval", tmp_path / "full")
    shards = [tmp_path / f"s{i}" for i in range(2)]
    for i, d in enumerate(shards):
        run_task(adapter, "mini_image_text_retrieval", d, shard=f"{i}/2")
    merged = merge_runs(shards, tmp_path / "merged")
    want = full.tasks["mini_image_text_retrieval"].metrics
    got = merged.tasks["mini_image_text_retrieval"].metrics
    assert {"i2t_R@1", "i2t_R@5", "t2i_R@1", "t2i_R@5", "mean_R"} <= set(want)
    for key, mv in want.items():
        assert got[key].value == pytest.approx(mv.value), key
    assert want["t2i_R@1"].n == 16  # one per gallery caption


def test_backend_resolution(tmp_path: Path) -> None:
    (tmp_path / "oc").mkdir()
    (tmp_path / "oc" / "open_clip_config.json").write_text("{}")
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "config.json").write_text("{}")
    assert resolve_backend(str(tmp_path / "oc"), None, "auto") == "open_clip"
    assert resolve_backend(str(tmp_path / "hf"), None, "auto") == "transformers"
    assert resolve_backend("laion2b_s34b_b79k", "ViT-B-32", "auto") == "open_clip"
    assert resolve_backend("hf-hub:org/repo", None, "auto") == "open_clip"
    assert resolve_backend("openai/clip-vit-base-patch32", None, "auto") == "transformers"
    with pytest.raises(ValueError, match="neither"):
        resolve_backend(str(tmp_path), None, "auto")
    with pytest.raises(ValueError, match="backend="):
        resolve_backend("x", None, "jax")


# ---------------------------------------------------------------------- scores on known inputs


def test_rank_of_best_positive_counts_ties_against() -> None:
    assert rank_of_best_positive([0.1, 0.9, 0.5], [1]) == 0
    assert rank_of_best_positive([0.1, 0.9, 0.5], [0]) == 2
    assert rank_of_best_positive([0.1, 0.9, 0.5], [0, 2]) == 1
    assert rank_of_best_positive([0.5, 0.5], [0]) == 1


def test_retrieval_metric_on_a_known_matrix() -> None:
    # 3 images x 4 captions; image 0 owns captions 0,1; image 1 owns 2; image 2 owns 3
    scores = np.array(
        [
            [9.0, 1.0, 2.0, 0.0],  # image 0: its caption 0 ranks first
            [1.0, 8.0, 3.0, 0.0],  # image 1: caption 1 (image 0's) beats its own caption 2
            [0.0, 0.0, 1.0, 5.0],  # image 2: its caption 3 first
        ]
    )
    positives = [[0, 1], [2], [3]]
    # text->image: caption 0 -> image 0 best (9); caption 1 -> image 1 (8) beats image 0 (1): miss;
    # caption 2 -> image 1 (3) beats image 0 (2) and 2 (1): hit; caption 3 -> image 2: hit
    assert text_to_image_hits(scores, positives, [1, 2]) == {1: [1.0, 0.0, 1.0, 1.0],
                                                             2: [1.0, 1.0, 1.0, 1.0]}
    meta = [{"choice_logprobs": list(r), "positives": p} for r, p in zip(scores, positives,
                                                                          strict=True)]
    inp = MetricInput(score="i2t_R@1", values=[1.0, 0.0, 1.0], clusters=[None] * 3, metadata=meta)
    got = retrieval_recall_metric(inp, ks=[1, 2])
    assert got["i2t_R@1"].value == pytest.approx(2 / 3)
    assert got["i2t_R@2"].value == pytest.approx(1.0)
    assert got["t2i_R@1"].value == pytest.approx(0.75) and got["t2i_R@1"].n == 4
    assert got["mean_R"].value == pytest.approx((2 / 3 + 1 + 0.75 + 1) / 4)
    bad = MetricInput(score="i2t_R@1", values=[1.0, 1.0], clusters=[None, None],
                      metadata=[{"choice_logprobs": [1.0], "positives": [0]},
                                {"choice_logprobs": [1.0, 2.0], "positives": [0]}])
    with pytest.raises(ValueError, match="same gallery"):
        retrieval_recall_metric(bad)
