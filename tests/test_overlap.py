"""The overlap check on planted overlaps: exact and normalized texts, shared word runs, and the
same media (bytes or decoded content) among unrelated rows, in each training layout (SFT,
preference, feedback), file type and modality; the report flags exactly the planted items."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.errors import ConfigError
from eval_anything.overlap import check_overlap
from eval_anything.spec.catalog import load_catalog

LONG_A = ("the committee reviewed every proposal carefully before the annual meeting in "
          "spring and then published a short summary of the decisions for all members")
LONG_B = ("a small boat drifted slowly along the quiet river while children on the bank "
          "counted the ducks and waved at the fishermen passing by")
LONG_C = ("engineers measured the bridge after the storm and found that the cables had "
          "stretched a little but the towers stood firm as designed")
SHORT = "zebra quokka lantern violet harbor"
EXACT = "The quick brown fox jumps over the lazy dog near the river bank today"
FILLER = ("orange window seven gentle market paper cloud silver garden music table "
          "winter yellow stone basket candle").split()


def _image(path: Path, seed: int) -> np.ndarray:
    pixels = np.random.default_rng(seed).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return pixels


def _audio(path: Path, seed: int, fmt: str = "WAV") -> None:
    import soundfile as sf

    wave = (np.random.default_rng(seed).integers(-3000, 3000, 800) / 32768).astype("float32")
    sf.write(path, wave, 8000, format=fmt, subtype="PCM_16")


def _video(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    frames = [Image.fromarray(np.full((8, 8, 3), rng.integers(0, 256, 3), dtype=np.uint8))
              for _ in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)


def _item(sid: str, text: str, media: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    parts += [{"type": kind, "path": p} for kind, p in media or []]
    return {"id": sid, "input": parts, "target": "x"}


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _filler(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(FILLER) for _ in range(n))


@pytest.fixture
def planted(tmp_path: Path) -> dict[str, Any]:
    """A task of 15 items (text, image, audio, video) and a training folder with overlaps
    planted for 10 of them, in SFT, preference and feedback rows, among unrelated rows."""
    ev = tmp_path / "task"
    (ev / "media").mkdir(parents=True)
    tr = tmp_path / "train"
    tr.mkdir()
    px = _image(ev / "media" / "img_bytes.png", 1)
    px2 = _image(ev / "media" / "img_content.png", 2)
    _image(ev / "media" / "img_clean.png", 3)
    _audio(ev / "media" / "aud_bytes.wav", 4)
    _audio(ev / "media" / "aud_content.wav", 5)
    _audio(ev / "media" / "aud_clean.wav", 6)
    _video(ev / "media" / "vid_bytes.gif", 7)
    _video(ev / "media" / "vid_clean.gif", 8)
    items = [
        _item("t_exact", EXACT),
        _item("t_run", LONG_A),
        _item("t_eight", LONG_B),
        _item("t_clean", LONG_C),
        _item("t_short", SHORT),
        _item("img_bytes", "alpha one", [("image", "media/img_bytes.png")]),
        _item("img_content", "alpha two", [("image", "media/img_content.png")]),
        _item("img_clean", "alpha three", [("image", "media/img_clean.png")]),
        _item("aud_bytes", "beta one", [("audio", "media/aud_bytes.wav")]),
        _item("aud_content", "beta two", [("audio", "media/aud_content.wav")]),
        _item("aud_clean", "beta three", [("audio", "media/aud_clean.wav")]),
        _item("vid_bytes", "gamma one", [("video", "media/vid_bytes.gif")]),
        _item("vid_clean", "gamma three", [("video", "media/vid_clean.gif")]),
        _item("t_upper", LONG_C.upper()[:40] + " unrelated ending words here"),
        _item("t_quote", "A stitch in time saves nine, said grandmother quietly."),
    ]
    _write_jsonl(ev / "items.jsonl", items)
    (ev / "planted.yaml").write_text(
        "task: planted\nversion: '1'\nsource: {jsonl: items.jsonl}\nloader: {name: sample}\n"
        "scorers: [{name: exact_match}]\nprimary_metric: exact_match\n"
    )
    # training media: same bytes under other names, same pixels/samples in another format
    (tr / "media").mkdir()
    shutil.copy(ev / "media" / "img_bytes.png", tr / "media" / "renamed.png")
    Image.fromarray(px2).save(tr / "media" / "same_pixels.bmp")
    _audio(tr / "media" / "same_samples.flac", 5, fmt="FLAC")
    shutil.copy(ev / "media" / "vid_bytes.gif", tr / "media" / "clip.gif")
    _image(tr / "media" / "other.png", 99)
    _audio(tr / "media" / "other.wav", 98)
    _video(tr / "media" / "other.gif", 97)
    assert not np.array_equal(px, px2)
    rng = random.Random(0)
    b = LONG_B.split()
    a = LONG_A.split()
    sft = [{"prompt": _filler(rng, 20), "completion": _filler(rng, 30)} for _ in range(12)]
    sft[3]["prompt"] = "the QUICK brown fox... jumps over the lazy dog, near the river-bank today!"
    sft[5]["completion"] = _filler(rng, 5) + " " + " ".join(b[4:12]) + " " + _filler(rng, 5)
    sft[7]["image"] = "media/renamed.png"
    sft[8]["image"] = "media/other.png"
    pref = [{"prompt": _filler(rng, 15), "chosen": _filler(rng, 20), "rejected": _filler(rng, 20)}
            for _ in range(10)]
    pref[2]["rejected"] = _filler(rng, 6) + " " + " ".join(a[10:23]) + " " + _filler(rng, 6)
    feedback = [{"prompt": _filler(rng, 15), "response": _filler(rng, 20),
                 "refinement": _filler(rng, 20)} for _ in range(10)]
    feedback[4]["refinement"] = f"{_filler(rng, 4)} Zebra, quokka; lantern violet HARBOR."
    mm = [{"question": _filler(rng, 10), "response_1": _filler(rng, 10),
           "response_2": _filler(rng, 10), "overall_response": 1} for _ in range(6)]
    mm[0]["image"] = "media/same_pixels.bmp"
    mm[1]["audio_path"] = "media/same_samples.flac"
    mm[2]["video_path"] = "media/clip.gif"
    mm[3]["audio_path"] = "media/other.wav"
    mm[4]["video_path"] = "media/other.gif"
    mm[5]["audio_path"] = "media/other.wav"
    shutil.copy(ev / "media" / "aud_bytes.wav", tr / "media" / "copy.wav")
    sft[9]["audio_path"] = "media/copy.wav"
    files = {
        "sft": _write_jsonl(tr / "sft.jsonl", sft),
        "preference": _write_jsonl(tr / "preference.jsonl", pref),
        "feedback": _write_jsonl(tr / "feedback.jsonl", feedback),
        "mm": _write_jsonl(tr / "mm.jsonl", mm),
    }
    return {"task_dir": ev, "files": files, "tmp": tmp_path}


EXPECTED = {
    "t_exact": ("same_text", "sft", 3),
    "t_run": ("shared_word_run", "preference", 2),
    "t_short": ("shared_word_run", "feedback", 4),
    "img_bytes": ("same_media_bytes", "sft", 7),
    "img_content": ("same_media_content", "mm", 0),
    "aud_bytes": ("same_media_bytes", "sft", 9),
    "aud_content": ("same_media_content", "mm", 1),
    "vid_bytes": ("same_media_bytes", "mm", 2),
}


def _spec(task_dir: Path) -> Any:
    return load_catalog([task_dir]).tasks["planted"]


def test_flags_exactly_the_planted_items(planted: dict[str, Any]) -> None:
    files = planted["files"]
    report = check_overlap(list(files.values()), [_spec(planted["task_dir"])])
    task = report.tasks["planted"]
    assert task.n == 15
    assert report.train_rows == 12 + 10 + 10 + 6
    got = {f.sample_id: f for f in task.flagged}
    assert set(got) == set(EXPECTED)  # t_eight (8 words), t_clean, *_clean not flagged
    for sid, (reason, layout, row) in EXPECTED.items():
        f = got[sid]
        assert f.reason == reason, sid
        assert [(r.file, r.row) for r in f.train_rows] == [(str(files[layout]), row)], sid
        assert f.n_train_rows == 1


def test_eight_word_run_flagged_only_at_ngram_eight(planted: dict[str, Any]) -> None:
    files = [planted["files"]["sft"]]
    spec = _spec(planted["task_dir"])
    at13 = check_overlap(files, [spec]).flagged_ids("planted")
    at8 = check_overlap(files, [spec], ngram=8).flagged_ids("planted")
    assert "t_eight" not in at13
    assert at8 - at13 == {"t_eight"}


@pytest.mark.parametrize("kind", ["json", "parquet", "datasets"])
def test_every_file_type_reads_the_same(planted: dict[str, Any], kind: str) -> None:
    """The SFT rows as JSON, Parquet and a datasets folder flag what the JSONL flags."""
    src = planted["files"]["sft"]
    rows = [json.loads(line) for line in src.read_text().splitlines()]
    for r in rows:  # Parquet and datasets want one schema for every row
        r.setdefault("image", None)
        r.setdefault("audio_path", None)
    folder = src.parent
    if kind == "json":
        path = folder / "sft.json"
        path.write_text(json.dumps(rows))
    elif kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = folder / "sft.parquet"
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        import datasets

        path = folder / "sft_ds"
        datasets.Dataset.from_list(rows).save_to_disk(str(path))
    spec = _spec(planted["task_dir"])
    want = check_overlap([src], [spec])
    got = check_overlap([path], [spec], media_root=folder)
    assert got.flagged_ids("planted") == want.flagged_ids("planted") == {
        "t_exact", "img_bytes", "aud_bytes"}
    rows_of = {f.sample_id: [r.row for r in f.train_rows] for f in got.tasks["planted"].flagged}
    assert rows_of == {"t_exact": [3], "img_bytes": [7], "aud_bytes": [9]}


def test_media_inline_in_a_datasets_image_column(planted: dict[str, Any]) -> None:
    """An HF Image feature (bytes inside the dataset) matches the item's file by content."""
    import datasets

    ev = planted["task_dir"] / "media"
    rows = [{"prompt": "orange window", "completion": "paper cloud",
             "image": {"bytes": (ev / f).read_bytes(), "path": None}}
            for f in ("img_clean.png", "img_bytes.png")]
    features = datasets.Features({"prompt": datasets.Value("string"),
                                  "completion": datasets.Value("string"),
                                  "image": datasets.Image()})
    out = planted["tmp"] / "ds"
    datasets.Dataset.from_list(rows, features=features).save_to_disk(str(out))
    report = check_overlap([out], [_spec(planted["task_dir"])])
    flagged = report.tasks["planted"].flagged
    assert [(f.sample_id, f.reason, f.train_rows[0].row) for f in flagged] == [
        ("img_bytes", "same_media_bytes", 1), ("img_clean", "same_media_bytes", 0)]


def test_video_frames_decoded_equal(planted: dict[str, Any]) -> None:
    """A folder of a GIF's frames is the same video as the GIF."""
    from eval_anything.core.content import VideoPart
    from eval_anything.overlap.media import decoded_key

    gif = planted["task_dir"] / "media" / "vid_bytes.gif"
    folder = planted["tmp"] / "frames"
    folder.mkdir()
    with Image.open(gif) as img:
        for i in range(img.n_frames):
            img.seek(i)
            img.convert("RGB").save(folder / f"{i:03d}.png")
    assert decoded_key(VideoPart(path=str(gif))) == decoded_key(VideoPart(path=str(folder)))
    other = planted["task_dir"] / "media" / "vid_clean.gif"
    assert decoded_key(VideoPart(path=str(gif))) != decoded_key(VideoPart(path=str(other)))


def test_samples_mapping_and_report_round_trip(planted: dict[str, Any]) -> None:
    """The API takes loaded samples too; the report survives JSON (to be stored with a run)."""
    from eval_anything.overlap import OverlapReport
    from eval_anything.spec.sources import load_samples

    samples = {"mine": load_samples(_spec(planted["task_dir"]))}
    report = check_overlap([planted["files"]["preference"]], samples)
    assert report.flagged_ids("mine") == {"t_run"}
    again = OverlapReport.model_validate_json(report.model_dump_json())
    assert again == report


# ------------------------------------------------------------------------------ the CLI


def _cli(*args: str | Path) -> Any:
    return CliRunner().invoke(app, ["overlap", *map(str, args)])


def test_cli_json_shape_and_exit_zero(planted: dict[str, Any]) -> None:
    files = planted["files"]
    res = _cli(*files.values(), "--tasks", "planted", "--include-path", planted["task_dir"],
               "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    task = out["tasks"]["planted"]
    assert task["n"] == 15
    assert {f["sample_id"] for f in task["flagged"]} == set(EXPECTED)
    first = task["flagged"][0]
    assert set(first) >= {"sample_id", "reason", "train_rows"}
    assert set(first["train_rows"][0]) == {"file", "row", "reason"}


def test_cli_table_ranks_by_share_and_exits_zero_when_clean(planted: dict[str, Any]) -> None:
    res = _cli(planted["files"]["sft"], "--tasks", "planted,mini_amu", "--include-path",
               planted["task_dir"])
    assert res.exit_code == 0, res.output
    assert res.output.index("planted") < res.output.index("mini_amu")
    clean = _cli(planted["files"]["feedback"], "--tasks", "mini_amu")
    assert clean.exit_code == 0 and "0.0%" in clean.output


@pytest.mark.parametrize("case", ["missing", "layout", "task", "broken_media", "lm_eval"])
def test_cli_bad_input_exits_2_naming_the_problem(planted: dict[str, Any], case: str) -> None:
    tmp = planted["tmp"]
    args: list[str | Path]
    if case == "missing":
        args = [tmp / "nope.jsonl", "--tasks", "mini_amu"]
        want = "nope.jsonl"
    elif case == "layout":
        args = [_write_jsonl(tmp / "odd.jsonl", [{"text": "hi"}]), "--tasks", "mini_amu"]
        want = "match no known format"
    elif case == "task":
        args = [planted["files"]["sft"], "--tasks", "mini_amuu"]
        want = "did you mean"
    elif case == "broken_media":
        (tmp / "bad.png").write_bytes(b"not a png")
        args = [_write_jsonl(tmp / "bad.jsonl", [{"prompt": "a", "completion": "b",
                                                   "image": "bad.png"}]), "--tasks", "mini_amu"]
        want = "row 0: field 'image'"
    else:
        args = [planted["files"]["sft"], "--tasks", "lm_eval:gsm8k"]
        want = "lm-eval tasks"
    res = _cli(*args)
    assert res.exit_code == 2, res.output
    assert want in res.output


def test_bad_row_is_a_config_error_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "rows.jsonl"
    bad.write_text('{"prompt": "a", "completion": "b"}\n[1, 2]\n')
    with pytest.raises(ConfigError, match=r"rows.jsonl:2: expected a JSON object"):
        check_overlap([bad], {"t": []})


def test_chat_sample_and_text_to_image_rows(planted: dict[str, Any]) -> None:
    """Chats (every message), Sample rows (text and media parts) and text-to-image preference
    rows (both images) are read as the trainers read them."""
    tr = planted["files"]["sft"].parent
    chat = _write_jsonl(tr / "chat.jsonl", [
        {"messages": [{"role": "user", "content": "orange window"},
                      {"role": "assistant", "content": [{"type": "text", "text": EXACT}]}]}])
    samples = _write_jsonl(tr / "samples.jsonl", [
        {"id": "s0", "input": [{"type": "text", "text": "paper cloud"},
                               {"type": "audio", "path": "media/copy.wav"}], "target": "ok"}])
    t2i = _write_jsonl(tr / "t2i.jsonl", [
        {"prompt": "silver garden", "better_image": "media/other.png",
         "worse_image": "media/renamed.png"}])
    report = check_overlap([chat, samples, t2i], [_spec(planted["task_dir"])])
    got = {f.sample_id: (f.reason, f.train_rows[0].file) for f in report.tasks["planted"].flagged}
    assert got == {"t_exact": ("same_text", str(chat)),
                   "aud_bytes": ("same_media_bytes", str(samples)),
                   "img_bytes": ("same_media_bytes", str(t2i))}


def test_scale_benchmark_finds_its_plants_at_small_size(tmp_path: Path) -> None:
    """benchmarks/overlap_scale.py runs end to end (tiny sizes) and finds what it planted."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "overlap_scale.py"
    out = subprocess.run(
        [sys.executable, str(script), "--rows", "400", "--items", "60", "--planted", "2",
         "--image-every", "50", "--data", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout
    assert "| 400 rows" in out
    assert "planted 6 items, flagged 6: missed [], extra []" in out
