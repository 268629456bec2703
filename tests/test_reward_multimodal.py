"""The reward (synergy) judge shows a multimodal reward model the generated image itself, through
the model's processor, in the paper's layout (user turn, then the response's media and text);
the score is the sigmoid of the reward and moves when only the image changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from tiny_reward import build_tiny_multimodal_reward, mark_as_remote_code

from eval_anything.core.content import AudioPart, ImagePart
from eval_anything.judges.base import JudgeItem
from eval_anything.judges.reward import RewardModelJudge, sigmoid
from eval_anything.judges.reward_multimodal import RewardModelError

PROMPT = "Draw a red circle and describe it."
ANSWER = "Here is a red circle on a white background."


@pytest.fixture(scope="module")
def reward_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_multimodal_reward(tmp_path_factory.mktemp("mm-reward") / "model")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ImagePart | AudioPart]:
    root = tmp_path_factory.mktemp("media")
    parts: dict[str, ImagePart | AudioPart] = {}
    for name, color in (("red", (220, 20, 20)), ("blue", (20, 20, 220))):
        img = Image.new("RGB", (48, 48), (255, 255, 255))
        for x in range(12, 36):
            for y in range(12, 36):
                if (x - 24) ** 2 + (y - 24) ** 2 < 120:
                    img.putpixel((x, y), color)
        img.save(root / f"{name}.png")
        parts[name] = ImagePart(path=str(root / f"{name}.png"), mime="image/png")
    wave = 0.3 * np.sin(2 * np.pi * 440 * np.arange(8000) / 16000).astype("float32")
    sf.write(root / "beep.wav", wave, 16000)
    parts["beep"] = AudioPart(path=str(root / "beep.wav"), mime="audio/wav")
    return parts


def _item(pair: str, media: list[ImagePart | AudioPart]) -> JudgeItem:
    return JudgeItem(kind="synergy", prompt=PROMPT, response=ANSWER, media=media,
                     metadata={"pair": pair})


def test_the_score_follows_the_image(reward_dir: Path, media: dict) -> None:
    judge = RewardModelJudge(str(reward_dir))
    assert judge.multimodal is not None and judge.identity().endswith(",multimodal")
    red, blue, again = judge.judge([_item("ti", [media["red"]]), _item("ti", [media["blue"]]),
                                    _item("ti", [media["red"]])])
    for j in (red, blue):
        assert j.value is not None and 0.0 < j.value < 1.0
        assert j.value == pytest.approx(sigmoid(float(j.raw or "nan")), abs=1e-6)
        assert j.details["layout"] == "multimodal"
    assert red.value != pytest.approx(blue.value, abs=1e-4)  # only the image differs
    assert again.value == pytest.approx(red.value)  # and the same image scores the same
    assert red.prompt_hash != blue.prompt_hash  # the judged input includes the image bytes


def test_the_input_is_the_papers_layout(reward_dir: Path) -> None:
    judge = RewardModelJudge(str(reward_dir))
    assert judge.multimodal is not None
    text = judge.multimodal.text_for(PROMPT, "ti", ANSWER)
    user, assistant = text.index(PROMPT), text.index("<start_of_image>")
    assert user < assistant < text.index(ANSWER)  # user turn, then the media, then the text
    assert ANSWER not in judge.multimodal.text_for(PROMPT, "ia", ANSWER)  # image-audio: no text


def test_media_the_model_cannot_see_are_unscored(reward_dir: Path, media: dict) -> None:
    judge = RewardModelJudge(str(reward_dir))
    audio, both, none = judge.judge([
        _item("ta", [media["beep"]]), _item("ia", [media["red"], media["beep"]]),
        _item("ti", []),
    ])
    assert audio.value is None and "takes no audio" in (audio.reason or "")
    assert both.value is None and "takes no audio" in (both.reason or "")
    assert none.value is None and "no generated image" in (none.reason or "")


def test_model_code_loads_only_when_the_user_allows_it(reward_dir: Path, tmp_path: Path,
                                                       media: dict) -> None:
    custom = Path(shutil.copytree(reward_dir, tmp_path / "custom"))
    (custom / "modeling_reward.py").write_text(
        "from transformers import Gemma3ForSequenceClassification\n\n\n"
        "class RewardForSequenceClassification(Gemma3ForSequenceClassification):\n"
        "    pass\n", encoding="utf-8")
    mark_as_remote_code(custom)
    with pytest.raises(RewardModelError, match="trust_remote_code=true"):
        RewardModelJudge(str(custom))
    trusted = RewardModelJudge(f"{custom},trust_remote_code=true")
    assert type(trusted.multimodal.model).__name__ == "RewardForSequenceClassification"
    base = RewardModelJudge(str(reward_dir)).judge([_item("ti", [media["red"]])])[0]
    assert trusted.judge([_item("ti", [media["red"]])])[0].value == pytest.approx(base.value)


def test_text_only_mode_stays_available(reward_dir: Path) -> None:
    with pytest.raises(ValueError, match="multimodal='sometimes'"):
        RewardModelJudge(f"{reward_dir},multimodal=sometimes")
