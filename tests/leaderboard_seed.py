"""A small leaderboard store with known contents, for the app and browser tests."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

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


#: the training run of the mixed store: its checkpoints scored on the same 24 items
MIXED_TRAINING = "dpo-20261130-142233-9c1e"
MIXED_STEPS = (0, 10, 20, 30, 40)
MIXED_CHECKPOINT = "/mnt/shared/experiments/dpo-mixed/checkpoint-{step}"
MIXED_HUB_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
#: a model named by a long absolute path (a merged fine-tune on a shared disk)
MIXED_LONG_PATH = ("/mnt/shared/experiments/2026-11-30/qwen2.5-0.5b-instruct/"
                   "sft-lr2e-5-bs64-warmup100-cosine/merged-final-fp16")
MIXED_LIMITS = (10, 20)  # the hub model's starter_mc runs: different items, different fingerprints


def mixed_run_id(name: str) -> str:
    """A run id shaped like the runner's (16 hex characters), fixed per seeded run."""
    import hashlib

    return hashlib.sha256(f"mixed/{name}".encode()).hexdigest()[:16]


def _real_task(task: str, values: list[float | None], score: str) -> tuple[Any, list[Any]]:
    """``task``'s result and records over its first ``len(values)`` real items: their ids and
    the fingerprint a run of the task with that ``--limit`` records."""
    from eval_anything.spec.catalog import load_catalog
    from eval_anything.spec.sources import load_samples
    from eval_anything.spec.task import fingerprint

    spec = load_catalog().tasks[task]
    samples = load_samples(spec, len(values))
    records = [r.model_copy(update={"sample_id": s.id, "input_ref": s.content_hash()})
               for r, s in zip(make_records(task, values, score=score), samples, strict=True)]
    result = task_result_of(task, records, fingerprint=fingerprint(spec, samples))
    return result.model_copy(update={"primary_metric": spec.primary_metric}), records


def mixed_runs() -> list[dict[str, Any]]:
    """What :func:`seed_mixed_store` pushes, one dict per run: ``name``, ``run_id``, ``model``,
    ``step`` (None outside the training run) and ``tasks`` ({task: per-item values})."""
    runs: list[dict[str, Any]] = []
    for k, step in enumerate(MIXED_STEPS):
        correct = (8, 9, 10, 11, 20)[k]  # flat, then the last checkpoint clearly better
        runs.append({"name": f"ckpt-{step}", "model": MIXED_CHECKPOINT.format(step=step),
                     "step": step,
                     "tasks": {"starter_gen": [1.0] * correct + [0.0] * (24 - correct)}})
    for limit in MIXED_LIMITS:  # 60% of the first 10 items, 55% of the first 20
        right = round(limit * (0.6 if limit == MIXED_LIMITS[0] else 0.55))
        runs.append({"name": f"hub-limit{limit}", "model": MIXED_HUB_MODEL, "step": None,
                     "tasks": {"starter_mc": [1.0] * right + [0.0] * (limit - right)}})
    runs.append({"name": "long-path", "model": MIXED_LONG_PATH, "step": None,
                 "tasks": {"starter_mc": [1.0] * 14 + [0.0] * 6,
                           "starter_gen": [1.0] * 12 + [0.0] * 12}})
    for run in runs:
        run["run_id"] = mixed_run_id(run["name"])
    return runs


MIXED_PAPER_MODEL = "omni-a"


def seed_mixed_store(root: Path) -> str:
    """A store like a user's after a while: a training run's checkpoints (steps 0-40) on the same
    24 ``starter_gen`` items, a mini eval-anything suite run (the paper's GPT-4o row), one hub
    model's ``starter_mc`` at two ``--limit`` values (two task fingerprints), and a model named
    by a long absolute path. Returns the store's URL; :func:`mixed_runs` lists the runs."""
    from paper_runs import paper_run

    from eval_anything.scoring.paper_table import paper_reference

    url = f"sqlite:///{root / 'mixed.sqlite'}"
    gpt4o = next(r for r in paper_reference().rows if r.model == "GPT-4o")
    with open_store(url) as store:
        for minute, run in enumerate(mixed_runs()):
            score = {"starter_gen": "exact_match"}
            built = {t: _real_task(t, v, score.get(t, "acc")) for t, v in run["tasks"].items()}
            results = make_results(
                run["run_id"], {t: b[0] for t, b in built.items()}, model_name=run["model"],
                training_run_id=None if run["step"] is None else MIXED_TRAINING,
                step=run["step"], created_at=f"2026-11-30T15:{minute:02d}:00+00:00")
            push(write_run(root / run["name"], results, {t: b[1] for t, b in built.items()}),
                 store=store)
        push(paper_run(root, gpt4o, mixed_run_id("mini"), model_name=MIXED_PAPER_MODEL,
                       minute=30), store=store)
    return url
