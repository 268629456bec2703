"""The hf adapter on a tiny Llama saved locally: loglikelihood, batching, identity, cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from eval_anything.core.content import TextPart
from eval_anything.core.requests import GenerateRequest, LoglikelihoodRequest, Message
from eval_anything.models.hf import HFModel
from eval_anything.models.hf_loglik import encode_pair


def _ll_request(q: str, conts: list[str]) -> LoglikelihoodRequest:
    return LoglikelihoodRequest(
        context=[Message(role="user", content=[TextPart(text=q)])],
        continuations=conts,
        apply_chat_template=False,
    )


def test_packed_loglikelihood_equals_one_sequence_per_choice(tiny_llama: Path) -> None:
    m = HFModel(str(tiny_llama), batch_size=3)
    reqs = [
        _ll_request(f"Question: what is {i} + 3? Answer:", [" 5", " four", " 12 13", " cat dog"])
        for i in range(5)
    ]
    packed = m.loglikelihood(reqs)
    for req, out in zip(reqs, packed, strict=True):
        ctx = req.context[0].content[0].text
        for cont, lp, greedy in zip(req.continuations, out.logprobs, out.greedy, strict=True):
            c_enc, x_enc = encode_pair(m, ctx, cont)
            with torch.no_grad():
                logits = m.model(torch.tensor([c_enc + x_enc])).logits[0].float()
            lps = torch.log_softmax(logits, -1)
            rows = lps[len(c_enc) - 1 : len(c_enc) - 1 + len(x_enc)]
            ref = float(rows.gather(1, torch.tensor(x_enc).unsqueeze(1)).sum())
            assert lp == pytest.approx(ref, abs=1e-4)
            assert greedy == bool((rows.argmax(-1) == torch.tensor(x_enc)).all())


def test_batched_generation_equals_one_at_a_time(tiny_llama: Path) -> None:
    m = HFModel(str(tiny_llama))
    prompts = ["The capital of France is", "One plus one is two. Two", "Answer:", "red green"]
    from eval_anything.core.requests import GenerationConfig

    gen = GenerationConfig(max_new_tokens=8)
    reqs = [GenerateRequest.from_parts([TextPart(text=p)], gen) for p in prompts]
    batched = [o.text for o in m.generate(reqs)]
    single = [m.generate([r])[0].text for r in reqs]
    assert batched == single
    out = m.generate(reqs[:1])[0]
    assert out.usage["completion_tokens"] <= 8 and out.usage["prompt_tokens"] > 0
    assert out.consumed_modalities == ["text"]


def test_chat_template_sha_and_media_not_consumed(tiny_llama: Path, tmp_path: Path) -> None:
    from PIL import Image

    from eval_anything.core.content import ImagePart

    m = HFModel(str(tiny_llama))
    assert m.details()["chat_template_sha256"] and len(m.details()["chat_template_sha256"]) == 64
    img = tmp_path / "x.png"
    Image.new("RGB", (4, 4)).save(img)
    req = GenerateRequest.from_parts(
        [ImagePart(path=str(img)), TextPart(text="what is this?")],
    )
    out = m.generate(
        [req.model_copy(update={"gen": req.gen.model_copy(update={"max_new_tokens": 3})})]
    )[0]
    assert out.consumed_modalities == ["text"]  # a text-only model cannot see the image


def test_two_checkpoints_never_share_cached_answers(
    tiny_llama: Path, tiny_llama_b: Path, tmp_path: Path
) -> None:
    from eval_anything.core.results_files import read_sample_records
    from eval_anything.run.runner import evaluate

    cache = tmp_path / "shared-cache.sqlite"
    kw = dict(tasks=["starter_gen"], limit=6, cache_path=cache, progress=False)
    a = evaluate("hf", model_args={"pretrained": str(tiny_llama)}, output_dir=tmp_path / "a", **kw)
    b = evaluate(
        "hf", model_args={"pretrained": str(tiny_llama_b)}, output_dir=tmp_path / "b", **kw
    )
    assert a.model.identity != b.model.identity
    outs_a = [r.output for r in read_sample_records(tmp_path / "a", "starter_gen")]
    outs_b = [r.output for r in read_sample_records(tmp_path / "b", "starter_gen")]
    assert outs_a != outs_b  # random tiny models answer differently; b did not reuse a's cache


def test_cache_is_keyed_by_weights(tiny_llama: Path, tiny_llama_b: Path, tmp_path: Path) -> None:
    from eval_anything.run.cache import ResponseCache
    from eval_anything.run.task_requests import TaskRequests
    from eval_anything.spec.catalog import load_catalog
    from eval_anything.spec.sources import load_samples

    spec = load_catalog().tasks["starter_gen"]
    samples = load_samples(spec, limit=4)
    cache = ResponseCache(tmp_path / "c.sqlite")
    a, b = HFModel(str(tiny_llama)), HFModel(str(tiny_llama_b))
    TaskRequests(spec, a, cache, tmp_path / "ra", seed=0).respond(samples)
    assert (cache.hits, cache.misses) == (0, 4)
    TaskRequests(spec, b, cache, tmp_path / "rb", seed=0).respond(samples)
    assert (cache.hits, cache.misses) == (0, 8), "checkpoint b must not reuse a's answers"
    TaskRequests(spec, a, cache, tmp_path / "ra", seed=0).respond(samples)
    assert cache.hits == 4
    # same folder, weights changed in place -> new identity
    before = HFModel(str(tiny_llama_b)).identity_hash()
    weights = tiny_llama_b / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert HFModel(str(tiny_llama_b)).identity_hash() != before
    data[-1] ^= 1
    weights.write_bytes(bytes(data))


def test_cli_run_with_local_model_dir(tiny_llama: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    from eval_anything.core.results_files import read_results, read_sample_records

    exe = Path(sys.executable).parent / "eval-anything"
    proc = subprocess.run(
        [
            str(exe),
            "run",
            "--model",
            "hf",
            "--model-args",
            f"pretrained={tiny_llama},dtype=float32",
            "--tasks",
            "starter_mc,starter_gen",
            "--limit",
            "10",
            "--output-dir",
            str(tmp_path / "r"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "acc_norm" in proc.stdout and "95% CI" in proc.stdout
    res = read_results(tmp_path / "r")
    assert set(res.tasks) == {"starter_mc", "starter_gen"}
    assert res.groups == {} or "starter" not in res.groups
    mc = res.tasks["starter_mc"].metrics["acc"]
    assert mc.n == 10 and mc.stderr is not None and mc.ci_low <= mc.value <= mc.ci_high
    assert res.model.details["chat_template_sha256"]
    recs = read_sample_records(tmp_path / "r", "starter_mc")
    assert len(recs) == 10 and all(len(r.metadata["choice_logprobs"]) == 4 for r in recs)
    json.loads((tmp_path / "r" / "results.json").read_text())


@pytest.mark.slow
def test_multiple_choice_accuracy_equals_lm_eval_hf_backend(
    tiny_llama: Path, tmp_path: Path
) -> None:
    """Same model, same 40 items: our acc/acc_norm equal lm-eval's `hf` backend."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    from eval_anything.run.runner import evaluate
    from eval_anything.spec.catalog import bundled_tasks_dir

    data = bundled_tasks_dir() / "starter" / "starter_mc.jsonl"
    subset = tmp_path / "items.jsonl"
    subset.write_text("".join(data.read_text().splitlines(keepends=True)[:40]))
    lm_dir = tmp_path / "lm_tasks"
    lm_dir.mkdir()
    (lm_dir / "starter_mc_lm.yaml").write_text(
        "task: starter_mc_lm\ndataset_path: json\n"
        f"dataset_kwargs:\n  data_files:\n    test: {subset}\n"
        "test_split: test\noutput_type: multiple_choice\n"
        'doc_to_text: "Question: {{question}}\\nAnswer:"\n'
        'doc_to_choice: "{{choices}}"\ndoc_to_target: answer\n'
        "metric_list:\n  - metric: acc\n  - metric: acc_norm\n"
    )
    theirs = lm_eval.simple_evaluate(
        model="hf",
        model_args=f"pretrained={tiny_llama},dtype=float32",
        tasks=["starter_mc_lm"],
        task_manager=TaskManager(include_path=str(lm_dir)),
        device="cpu",
        batch_size=8,
    )["results"]["starter_mc_lm"]
    ours = evaluate(
        "hf",
        ["starter_mc"],
        model_args={"pretrained": str(tiny_llama)},
        limit=40,
        output_dir=tmp_path / "ours",
        cache_path=None,
        progress=False,
    )
    m = ours.tasks["starter_mc"].metrics
    assert m["acc"].value == pytest.approx(theirs["acc,none"], abs=1e-12)
    assert m["acc_norm"].value == pytest.approx(theirs["acc_norm,none"], abs=1e-12)
    assert m["acc"].stderr == pytest.approx(theirs["acc_stderr,none"], rel=1e-9)
