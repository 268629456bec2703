"""A small leaderboard store with known contents, for the app and browser tests."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from eval_anything.core.content import AudioPart, ImagePart, TextPart, VideoPart
from eval_anything.store import open_store, push
from eval_anything.store.synthetic import make_records, make_results, task_result_of, write_run

SCRIPT_OUTPUT = '<script>alert("pwned")</script><b>bold?</b> [link](http://example.com)'


def seed_leaderboard_store(root: Path) -> str:
    """A small store with known contents for the app tests: models ``alpha`` (run ``base-run``)
    and ``beta`` (``cand-run``, three ``qa`` items flipped 1 -> 0), a training run ``dpo-1`` at
    steps 100-300, an image task ``gen`` whose first output is hostile HTML plus a stored PNG."""
    url = f"sqlite:///{root / 'leaderboard.sqlite'}"
    qa_base = [1.0] * 14 + [0.0] * 6
    qa_cand = [0.0] * 3 + [1.0] * 11 + [0.0] * 6
    png = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 128, 255)).save(png, format="PNG")
    gif = io.BytesIO()
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=100)

    def run(run_id: str, model: str, qa: list[float], gen: list[float], minute: int,
            training: str | None = None, step: int | None = None) -> Path:
        run_dir = root / run_id
        (run_dir / "media").mkdir(parents=True, exist_ok=True)
        (run_dir / "media" / "g0.png").write_bytes(png.getvalue())
        (run_dir / "media" / "g0.wav").write_bytes(b"RIFF0000WAVEfmt ")
        (run_dir / "media" / "g0.gif").write_bytes(gif.getvalue())
        records = {"qa": make_records("qa", qa),
                   "gen": make_records("gen", gen, score="rating", judge="llm:judge")}
        first = records["gen"][0]
        records["gen"][0] = first.model_copy(update={"output": [
            TextPart(text=SCRIPT_OUTPUT), ImagePart(path="media/g0.png", mime="image/png"),
            AudioPart(path="media/g0.wav", mime="audio/wav"),
            VideoPart(path="media/g0.gif", mime="image/gif")]})
        tasks = {"qa": task_result_of("qa", records["qa"]),
                 "gen": task_result_of("gen", records["gen"], input_modalities=["text"],
                                       output_modalities=["text", "image"])}
        results = make_results(run_id, tasks, model_name=model, training_run_id=training,
                               step=step, created_at=f"2026-01-01T00:{minute:02d}:00+00:00")
        return write_run(run_dir, results, records)

    with open_store(url) as store:
        push(run("base-run", "alpha", qa_base, [7.0, 8.0, 6.0, 9.0], 1), store=store)
        push(run("cand-run", "beta", qa_cand, [7.0, 8.0, 6.0, 9.0], 2), store=store)
        for i, step in enumerate((100, 200, 300)):
            qa = [1.0] * (8 + 3 * i) + [0.0] * (12 - 3 * i)
            push(run(f"dpo-step{step}", "policy", qa, [5.0 + i, 6.0, 5.0, 6.0], 3 + i,
                     training="dpo-1", step=step), store=store)
    return url


def seed_paper_store(root: Path) -> str:
    """A store with two runs of the mini eval-anything suite whose scores are the paper's
    GPT-4o row (model ``omni-a``) and LLaVA row (``omni-b``): the paper view and mixed declared
    scales (ratings 1-10, rates 0-1, S_AMG 0-30) on the main page."""
    from paper_runs import paper_run

    from eval_anything.scoring.paper_table import paper_reference

    rows = {r.model: r for r in paper_reference().rows}
    url = f"sqlite:///{root / 'paper.sqlite'}"
    with open_store(url) as store:
        push(paper_run(root, rows["GPT-4o"], "paper-a", model_name="omni-a", minute=1),
             store=store)
        push(paper_run(root, rows["LLaVA-v1.5-7B"], "paper-b", model_name="omni-b", minute=2),
             store=store)
    return url
