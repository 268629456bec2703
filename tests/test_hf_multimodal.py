"""The hf adapter on a tiny image-text-to-text model (LLaVA) saved locally: the image reaches the
model (outputs depend on it) and is recorded as consumed."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from eval_anything.core.content import ImagePart, TextPart
from eval_anything.core.requests import GenerateRequest, GenerationConfig


@pytest.fixture(scope="module")
def tiny_llava(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny import build_tiny_llava

    return build_tiny_llava(tmp_path_factory.mktemp("llava") / "model")


def test_image_reaches_the_model(tiny_llava: Path, tmp_path: Path) -> None:
    from eval_anything.models.hf import HFModel

    m = HFModel(str(tiny_llava))
    assert m.multimodal and "image" in m.input_modalities
    gen = GenerationConfig(max_new_tokens=6)
    paths = []
    for i, color in enumerate([(255, 0, 0), (0, 0, 255)]):
        p = tmp_path / f"{i}.png"
        Image.new("RGB", (40, 40), color).save(p)
        paths.append(p)
    reqs = [
        GenerateRequest.from_parts([ImagePart(path=str(p)), TextPart(text="what color?")], gen)
        for p in paths
    ]
    outs = m.generate(reqs)
    assert all(o.consumed_modalities == ["text", "image"] for o in outs)
    assert all(o.error is None for o in outs)
    # the logits differ with the image, so the model really saw it
    import torch

    enc = [m.processor(text=m.render(r.messages), images=[Image.open(p)], return_tensors="pt")
           for r, p in zip(reqs, paths, strict=True)]
    with torch.no_grad():
        la = m.model(**enc[0]).logits[0, -1]
        lb = m.model(**enc[1]).logits[0, -1]
    assert not torch.allclose(la, lb)
    single = [m.generate([r])[0].text for r in reqs]
    assert single == [o.text for o in outs]
