"""The align-anything layouts read with their media, from JSONL, JSON, Parquet (HF Image/Audio
features) and a datasets folder; media that cannot reach a model, or data that cannot be trained
on, stop the run before anything is written."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from tiny_media import write_media

from eval_anything.errors import ConfigError
from eval_anything.trainers.data.formats import resolve_format, to_completions, to_pairs
from eval_anything.trainers.data.row_files import read_rows


def _pairs(path: Path, **kw):  # type: ignore[no-untyped-def]
    rows = read_rows(path)
    return to_pairs(rows, resolve_format(rows, "auto", str(path)), str(path), **kw)


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_text_to_text_layout_and_choosing_the_preference_field(tmp_path: Path) -> None:
    row = {"prompt": "How do I pick a lock?", "response_0": "Like this...",
           "response_1": "I can't help with that.", "better_response_id": 0,
           "safer_response_id": 1, "is_response_0_safe": False}
    path = _jsonl(tmp_path / "safe.jsonl", [row])
    (helpful,) = _pairs(path)
    assert (helpful.chosen, helpful.rejected) == ("Like this...", "I can't help with that.")
    assert helpful.metadata["is_response_0_safe"] is False
    (safer,) = _pairs(path, preference_field="safer_response_id")
    assert safer.chosen == "I can't help with that."
    assert safer.metadata["preference_field"] == "safer_response_id"
    with pytest.raises(ConfigError, match="preference field 'o_response' is missing"):
        _pairs(path, preference_field="o_response")


@pytest.mark.parametrize("kind", ["image", "audio", "video"])
def test_media_layouts_keep_media_and_fine_grained_fields(tmp_path: Path, kind: str) -> None:
    field = {"image": "image", "audio": "audio_path", "video": "video_path"}[kind]
    name = write_media(tmp_path, kind, 1)
    row = {"prompt": "Q", field: name, "response_1": "a", "response_2": "b",
           "overall_response": 2, "p_response": 1, "prompt_following_rate_1": 3,
           "c_response": 2, "text_critique_1": "vague"}
    (pair,) = _pairs(_jsonl(tmp_path / "d.jsonl", [row]))
    assert (pair.chosen, pair.rejected) == ("b", "a")
    assert [(m.field, m.modality) for m in pair.media] == [(field, kind)]
    assert Path(pair.media[0].part.path) == (tmp_path / name).resolve()
    assert pair.metadata["prompt_following_rate_1"] == 3
    assert pair.metadata["text_critique_1"] == "vague"
    (by_p,) = _pairs(tmp_path / "d.jsonl", preference_field="p_response")
    assert by_p.chosen == "a"


def test_image_as_base64_and_feature_dict_and_audio_array(tmp_path: Path) -> None:
    png = (tmp_path / write_media(tmp_path, "image", 0)).read_bytes()
    wav = tmp_path / write_media(tmp_path, "audio", 0)
    rows = [
        {"question": "Q", "image": base64.b64encode(png).decode(), "response_1": "a",
         "response_2": "b", "overall_response": 1},
        {"question": "Q", "image": "data:image/png;base64," + base64.b64encode(png).decode(),
         "response_1": "a", "response_2": "b", "overall_response": 1},
        {"question": "Q", "audio": {"array": [0.0, 0.1, -0.1] * 500, "sampling_rate": 16000},
         "response_1": "a", "response_2": "b", "overall_response": 1},
        {"question": "Q", "audio": {"bytes": None, "path": wav.name}, "response_1": "a",
         "response_2": "b", "overall_response": 1},
    ]
    pairs = _pairs(_jsonl(tmp_path / "d.jsonl", rows))
    assert [p.media[0].modality for p in pairs] == ["image", "image", "audio", "audio"]
    assert pairs[0].media[0].part.data == png and pairs[1].media[0].part.data == png
    wave, rate = pairs[2].media[0].part.load()
    assert rate == 16000 and wave.shape == (1500,)
    assert Path(pairs[3].media[0].part.path) == wav.resolve()


def test_parquet_and_datasets_folder_with_hf_image_and_audio_features(tmp_path: Path) -> None:
    import datasets

    img = str(tmp_path / write_media(tmp_path, "image", 0))
    wav = (tmp_path / write_media(tmp_path, "audio", 1)).read_bytes()
    clip = {"bytes": wav, "path": "clip1.wav"}
    ds = datasets.Dataset.from_dict({
        "question": ["Q0", "Q1"], "image": [img, img], "audio": [clip, clip],
        "response_1": ["a", "c"], "response_2": ["b", "d"], "overall_response": [1, 2],
    })
    # features as the hub stores them (encoding audio would need torchcodec: cast instead)
    ds = ds.cast_column("image", datasets.Image()).cast_column("audio", datasets.Audio())
    assert ds.features["audio"].decode and ds.features["image"].decode
    ds.to_parquet(str(tmp_path / "train.parquet"))
    ds.save_to_disk(str(tmp_path / "saved"))
    for source in (tmp_path / "train.parquet", tmp_path / "saved"):
        pairs = _pairs(source)
        assert [p.chosen for p in pairs] == ["a", "d"]
        assert [m.modality for m in pairs[0].media] == ["image", "audio"]
        assert pairs[0].media[0].part.load().size == (40, 40)
        assert pairs[1].media[1].part.load()[1] == 8000


def test_feedback_rows_with_media_train_sft_on_the_refinement(tmp_path: Path) -> None:
    row = {"prompt": "Describe it.", "video_path": write_media(tmp_path, "video", 0),
           "response": "Blue.", "refinement": "Red, moving left.", "critique": "Look again."}
    path = _jsonl(tmp_path / "fb.jsonl", [row])
    rows = read_rows(path)
    (item,) = to_completions(rows, resolve_format(rows, "auto", str(path)), str(path))
    assert item.completion == "Red, moving left." and item.media[0].modality == "video"
    (pair,) = _pairs(path)
    assert pair.rejected == "Blue." and pair.metadata["critique"] == "Look again."


@pytest.mark.parametrize(("value", "why"), [
    ("../outside.png", "resolves outside the media root"),
    ("missing.png", "file not found"),
    ("broken.png", "cannot be decoded as image"),
])
def test_bad_media_is_named_with_file_row_field_and_modality(
    tmp_path: Path, value: str, why: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    write_media(tmp_path, "image", 0)
    (tmp_path / "outside.png").write_bytes((tmp_path / "img0.png").read_bytes())
    (data / "broken.png").write_text("not an image")
    path = _jsonl(data / "d.jsonl", [{"question": "Q", "image": value, "response_1": "a",
                                      "response_2": "b", "overall_response": 1}])
    with pytest.raises(ConfigError, match=rf"d.jsonl: row 0: field 'image' \(image\): .*{why}"):
        _pairs(path)


def test_nan_and_non_object_rows_are_refused(tmp_path: Path) -> None:
    nan = tmp_path / "nan.jsonl"
    nan.write_text('{"prompt": "Q", "chosen": "a", "rejected": "b", "score": NaN}\n')
    with pytest.raises(ConfigError, match="nan.jsonl:1: NaN is not a number JSON allows; write"):
        read_rows(nan)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"prompt": ["Q"], "chosen": ["a"], "rejected": ["b"],
                             "score": [float("inf")]}), tmp_path / "inf.parquet")
    with pytest.raises(ConfigError, match="row 0: field 'score' is NaN or infinite"):
        read_rows(tmp_path / "inf.parquet")
    listed = tmp_path / "list.jsonl"
    listed.write_text('["a", "b"]\n')
    with pytest.raises(ConfigError, match="row 0: expected a JSON object"):
        read_rows(listed)
    with pytest.raises(ConfigError, match="unknown file type '.csv'"):
        (tmp_path / "x.csv").write_text("a,b\n")
        read_rows(tmp_path / "x.csv")
    assert np.isfinite(1.0)
