"""Model-backed judges on tiny models built locally (CLIP, open_clip, a reward model) and on the
real MiniLM shipped in a PyPI package."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval_anything.judges.base import JudgeItem, build_judge
from eval_anything.judges.reward import reward_input, sigmoid
from eval_anything.models.procedural import render


def image_part(tmp_path: Path, instruction: str):  # type: ignore[no-untyped-def]
    part = render("image", instruction)
    path = tmp_path / f"{abs(hash(instruction))}.png"
    path.write_bytes(part.data or b"")
    return part.model_copy(update={"data": None, "path": str(path)})


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny import build_tokenizer
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    tok = build_tokenizer(chat_template=False)
    text = dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, max_position_embeddings=64, bos_token_id=tok.bos_token_id,
                eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=2, image_size=32, patch_size=8)
    model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=16))
    processor = CLIPProcessor(
        image_processor=CLIPImageProcessor(size={"shortest_edge": 32},
                                           crop_size={"height": 32, "width": 32}),
        tokenizer=tok,
    )
    folder = tmp_path_factory.mktemp("clip") / "tiny-clip"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def test_transformers_clip_judge_scores_image_if_and_ti_synergy(
    tiny_clip_dir: Path, tmp_path: Path
) -> None:
    judge = build_judge(f"clip:{tiny_clip_dir}")
    img = image_part(tmp_path, "a red circle")
    items = [
        JudgeItem(kind="image_if", prompt="a red circle", media=[img]),
        JudgeItem(kind="synergy", prompt="q", response="a red circle", media=[img],
                  metadata={"pair": "ti"}),
        JudgeItem(kind="synergy", prompt="q", response="x", media=[img], metadata={"pair": "ta"}),
        JudgeItem(kind="amu", prompt="q"),
    ]
    got = judge.judge(items)
    cos = got[0].details["cosine"]
    assert got[0].value == pytest.approx(10 * min(1.0, 2.5 * max(0.0, cos)), abs=1e-3)
    assert 0.0 <= (got[1].value or 0.0) <= 1.0
    assert got[2].value is None and "text-image" in (got[2].reason or "")
    assert got[3].value is None
    assert judge.identity().startswith("clip:tiny-clip:")
    again = build_judge(f"clip:{tiny_clip_dir}").judge(items[:1])[0]
    assert again.value == pytest.approx(got[0].value)


def test_open_clip_judge_with_a_custom_tiny_architecture(tmp_path: Path) -> None:
    import open_clip
    import torch

    cfg = {"embed_dim": 16,
           "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8,
                          "head_width": 16},
           "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2,
                        "layers": 1}}
    cfg_file = tmp_path / "ea-tiny-clip.json"
    cfg_file.write_text(json.dumps(cfg), "utf-8")
    torch.manual_seed(0)
    model = open_clip.CLIP(embed_dim=16, vision_cfg=cfg["vision_cfg"], text_cfg=cfg["text_cfg"])
    weights = tmp_path / "weights.pt"
    torch.save(model.state_dict(), weights)
    judge = build_judge(f"open_clip:ea-tiny-clip,config={cfg_file},pretrained={weights}")
    img = image_part(tmp_path, "two blue squares")
    (j,) = judge.judge([JudgeItem(kind="synergy", prompt="q", response="two blue squares",
                                  media=[img], metadata={"pair": "ti"})])
    assert j.value is not None and 0.0 <= j.value <= 1.0
    assert judge.identity().startswith("open_clip:ea-tiny-clip:")


@pytest.fixture(scope="module")
def tiny_reward_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from tiny import build_tokenizer
    from transformers import LlamaConfig, LlamaForSequenceClassification

    tok = build_tokenizer(chat_template=False)
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                      num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                      num_labels=1, pad_token_id=tok.pad_token_id)
    folder = tmp_path_factory.mktemp("rm") / "tiny-rm"
    LlamaForSequenceClassification(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def test_reward_input_follows_the_papers_layout() -> None:
    assert reward_input("Q?", "ti", "answer") == "USER: Q?\nASSISTANT:\n<image>answer"
    assert reward_input("Q?", "ta", "answer") == "USER: Q?\nASSISTANT:\n<audio>answer"
    assert reward_input("Q?", "ia", "answer") == "USER: Q?\nASSISTANT:\n<image><audio>"
    described = reward_input("Q?", "ia", "", {"image": "a red dot", "audio": "two beeps"})
    assert described == "USER: Q?\nASSISTANT:\n<image> a red dot\n<audio> two beeps\n"
    with pytest.raises(ValueError, match="pair"):
        reward_input("Q?", "tv", "x")
    assert sigmoid(0.0) == 0.5 and sigmoid(-800.0) == pytest.approx(0.0)


def test_reward_judge_scores_pairs_with_sigmoid_of_the_logit(tiny_reward_dir: Path) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    judge = build_judge(f"reward:{tiny_reward_dir}")
    items = [JudgeItem(kind="synergy", prompt="Show a beach.", response="Here is a beach.",
                       metadata={"pair": p}) for p in ("ti", "ta", "ia")]
    got = judge.judge(items)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_reward_dir).eval()
    tok = AutoTokenizer.from_pretrained(tiny_reward_dir)
    with torch.no_grad():
        logit = model(**tok(reward_input("Show a beach.", "ti", "Here is a beach."),
                            return_tensors="pt")).logits[0, 0].item()
    assert got[0].value == pytest.approx(sigmoid(logit), abs=1e-5)
    assert all(0.0 < (j.value or 0) < 1.0 for j in got)
    assert got[0].prompt_hash and got[0].raw
    assert judge.identity().startswith("reward:tiny-rm:")


@pytest.mark.slow
def test_minilm_judge_prefers_the_matching_reference_and_description() -> None:
    judge = build_judge("minilm")
    refs = [{"answer": "A dog is barking loudly."}, {"answer": "Two red circles."}]
    close, far = judge.judge([
        JudgeItem(kind="amu", prompt="q", response="The dog barks.", references=refs),
        JudgeItem(kind="amu", prompt="q", response="Quantum chromodynamics.", references=refs),
    ])
    assert (close.value or 0) > (far.value or 0) and close.details["best_reference"] == 0
    assert 1.0 <= (far.value or 0) <= 10.0
    same, other, missing = judge.judge([
        JudgeItem(kind="synergy", prompt="q", metadata={"first": "a beach with waves",
                                                         "second": "waves on a sandy beach"}),
        JudgeItem(kind="synergy", prompt="q", metadata={"first": "a beach with waves",
                                                         "second": "tax law in France"}),
        JudgeItem(kind="synergy", prompt="q", metadata={"first": "a beach", "second": None}),
    ])
    assert (same.value or 0) > (other.value or 0)
    assert missing.value is None and "description" in (missing.reason or "")
    assert judge.identity() == "minilm:all-MiniLM-L6-v2"
