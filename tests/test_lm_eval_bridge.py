"""lm-eval both ways: lm-eval tasks through our adapters give lm-eval's own numbers, and lm-eval
can load our adapters as the model ``eval-anything``. A tiny Llama is built locally; the task is a
local lm-eval task folder (lm-eval's include path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from eval_anything.core.results import RunSpec
from eval_anything.core.results_files import read_sample_records
from eval_anything.integrations.lm_eval_model import (
    _group_by_context,
    cut_at_stop,
    lm_eval_gen_config,
)
from eval_anything.integrations.lm_eval_tasks import parse_metric_table, run_lm_eval_task

pytestmark = pytest.mark.filterwarnings("ignore")
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def build_tiny_llama(folder: Path) -> Path:
    """Byte-level BPE tokenizer that adds BOS (as Llama's does) and a 2-layer Llama."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    texts = ["Question: what colour is the sky? Answer: blue", "red green blue yes no"] * 4
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        texts,
        trainers.BpeTrainer(
            vocab_size=300,
            special_tokens=["<s>", "</s>", "<pad>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(fast), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    LlamaForCausalLM(cfg).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def write_lm_eval_tasks(folder: Path) -> Path:
    """Two multiple-choice tasks, a generation task and a group, as lm-eval YAML + JSONL."""
    folder.mkdir(parents=True, exist_ok=True)
    colours = ["red", "green", "blue"]
    mc = [{"q": f"What colour is thing {i}?", "choices": colours, "label": i % 3} for i in range(9)]
    gen = [{"q": f"Say yes {i}", "a": "yes"} for i in range(4)]
    (folder / "mc.jsonl").write_text("".join(json.dumps(r) + "\n" for r in mc))
    (folder / "gen.jsonl").write_text("".join(json.dumps(r) + "\n" for r in gen))
    common = "dataset_path: json\ntest_split: test\n"
    for name, text in (("tiny_mc", "Question: {{q}}\\nAnswer:"), ("tiny_mc2", "{{q}} It is")):
        (folder / f"{name}.yaml").write_text(
            f"task: {name}\n{common}"
            f"dataset_kwargs:\n  data_files:\n    test: {folder / 'mc.jsonl'}\n"
            f'output_type: multiple_choice\ndoc_to_text: "{text}"\n'
            'doc_to_choice: "{{choices}}"\ndoc_to_target: label\n'
            "metric_list:\n  - metric: acc\n  - metric: acc_norm\n"
        )
    (folder / "tiny_gen.yaml").write_text(
        f"task: tiny_gen\n{common}"
        f"dataset_kwargs:\n  data_files:\n    test: {folder / 'gen.jsonl'}\n"
        'output_type: generate_until\ndoc_to_text: "{{q}}:"\ndoc_to_target: a\n'
        'generation_kwargs:\n  until: ["\\n"]\n  max_gen_toks: 8\n  do_sample: false\n'
        "metric_list:\n  - metric: exact_match\n"
    )
    (folder / "tiny_group.yaml").write_text(
        "group: tiny_group\ntask: [tiny_mc, tiny_mc2]\n"
        "aggregate_metric_list:\n  - metric: acc\n    weight_by_size: true\n"
    )
    return folder


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    for k, v in OFFLINE.items():
        os.environ.setdefault(k, v)
    root = tmp_path_factory.mktemp("lmeval")
    return {"model": build_tiny_llama(root / "tiny"), "tasks": write_lm_eval_tasks(root / "tasks")}


def lm_eval_reference(env: dict[str, Path], task: str) -> dict[str, Any]:
    """lm-eval's own hf backend on the same model and task."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    tm = TaskManager(include_path=str(env["tasks"]), include_defaults=False)
    return lm_eval.simple_evaluate(  # type: ignore[return-value]
        model="hf",
        model_args={"pretrained": str(env["model"]), "dtype": "float32"},
        tasks=[task],
        task_manager=tm,
        device="cpu",
        batch_size=1,
        log_samples=True,
    )


def hf_adapter(env: dict[str, Path]) -> Any:
    from eval_anything.models.hf import HFModel

    return HFModel(pretrained=str(env["model"]), dtype="float32", device="cpu")


@pytest.mark.slow
def test_multiple_choice_equals_lm_eval_hf(env: dict[str, Path], tmp_path: Path) -> None:
    ref = lm_eval_reference(env, "tiny_mc")
    got = run_lm_eval_task(
        hf_adapter(env), "lm_eval:tiny_mc", RunSpec(model="hf", tasks=["lm_eval:tiny_mc"]),
        tmp_path, include_paths=[env["tasks"]],
    )
    table = ref["results"]["tiny_mc"]
    for metric in ("acc", "acc_norm"):
        assert got.metrics[metric].value == table[f"{metric},none"]
        se = table[f"{metric}_stderr,none"]
        assert got.metrics[metric].stderr == pytest.approx(se, rel=1e-12)
    assert got.n == 9 and got.details["aggregations"] == {"acc": "mean", "acc_norm": "mean"}
    records = {r.sample_id: r for r in read_sample_records(tmp_path, "lm_eval:tiny_mc")}
    for ex in ref["samples"]["tiny_mc"]:
        rec = records[str(ex["doc_id"])]
        ours = rec.metadata["choice_logprobs"]
        theirs = [float(r[0][0]) for r in ex["resps"]]
        assert ours == pytest.approx(theirs, abs=1e-4)
        assert rec.input_ref == ex["doc_hash"] and rec.prompt_hash == ex["prompt_hash"]
        assert rec.scores["acc"].value == ex["acc"]


@pytest.mark.slow
def test_generation_equals_lm_eval_hf(env: dict[str, Path], tmp_path: Path) -> None:
    ref = lm_eval_reference(env, "tiny_gen")
    got = run_lm_eval_task(
        hf_adapter(env), "lm_eval:tiny_gen", RunSpec(model="hf", tasks=["lm_eval:tiny_gen"]),
        tmp_path, include_paths=[env["tasks"]],
    )
    assert got.metrics["exact_match"].value == ref["results"]["tiny_gen"]["exact_match,none"]
    records = read_sample_records(tmp_path, "lm_eval:tiny_gen")
    ours = {r.sample_id: r.output[0].text for r in records}
    theirs = {str(ex["doc_id"]): ex["resps"][0][0] for ex in ref["samples"]["tiny_gen"]}
    assert ours == theirs


@pytest.mark.slow
def test_group_metrics_and_member_samples(env: dict[str, Path], tmp_path: Path) -> None:
    ref = lm_eval_reference(env, "tiny_group")
    got = run_lm_eval_task(
        hf_adapter(env), "lm_eval:tiny_group", RunSpec(model="hf", tasks=["lm_eval:tiny_group"]),
        tmp_path, include_paths=[env["tasks"]],
    )
    group_table = ref.get("groups", {}).get("tiny_group") or ref["results"]["tiny_group"]
    assert got.metrics["acc"].value == pytest.approx(group_table["acc,none"], rel=1e-12)
    for leaf in ("tiny_mc", "tiny_mc2"):
        assert got.metrics[f"{leaf}/acc"].value == ref["results"][leaf]["acc,none"]
    ids = {r.sample_id for r in read_sample_records(tmp_path, "lm_eval:tiny_group")}
    assert ids == {f"{leaf}/{i}" for leaf in ("tiny_mc", "tiny_mc2") for i in range(9)}
    assert got.details["lm_eval_group"] is True


def test_shards_partition_documents_and_share_fingerprint(
    env: dict[str, Path], tmp_path: Path
) -> None:
    """Scripted adapter (no torch): two shards cover every document once; their mean is the
    unsharded value and they carry the unsharded fingerprint."""
    from eval_anything.models.scripted import ScriptedModel

    model = ScriptedModel(default="green")

    def run(shard: str | None, out: Path) -> Any:
        spec = RunSpec(model="scripted", tasks=["lm_eval:tiny_mc"], shard=shard, limit=7)
        return run_lm_eval_task(model, "lm_eval:tiny_mc", spec, out, include_paths=[env["tasks"]])

    full = run(None, tmp_path / "full")
    parts = [run(f"{i}/2", tmp_path / f"s{i}") for i in range(2)]
    assert {p.task_fingerprint for p in parts} == {full.task_fingerprint}
    logs = [read_sample_records(tmp_path / f"s{i}", "lm_eval:tiny_mc") for i in range(2)]
    ids = [sorted(int(r.sample_id) for r in log) for log in logs]
    assert ids == [[0, 2, 4, 6], [1, 3, 5]]
    hits = sum(p.metrics["acc"].value * p.n for p in parts)
    assert hits / 7 == pytest.approx(full.metrics["acc"].value)
    assert full.metrics["acc"].value == pytest.approx(2 / 7)  # "green" is right for items 1 and 4


@pytest.mark.slow
def test_lm_eval_loads_eval_anything_model_in_process(
    env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import lm_eval
    from lm_eval.tasks import TaskManager

    import eval_anything.integrations.lm_eval_model  # noqa: F401  (registers 'eval-anything')

    ref = lm_eval_reference(env, "tiny_mc")
    res = lm_eval.simple_evaluate(
        model="eval-anything",
        model_args=f"adapter=hf,pretrained={env['model']},dtype=float32",
        tasks=["tiny_mc"],
        task_manager=TaskManager(include_path=str(env["tasks"]), include_defaults=False),
        device="cpu",
    )
    assert res is not None
    assert res["results"]["tiny_mc"]["acc,none"] == ref["results"]["tiny_mc"]["acc,none"]
    assert res["results"]["tiny_mc"]["acc_norm,none"] == ref["results"]["tiny_mc"]["acc_norm,none"]
    # our requests show a bar (done, rate, time remaining) like the runner's
    assert "lm-eval loglikelihood" in " ".join(capsys.readouterr().err.split())


@pytest.mark.slow
def test_lm_eval_command_line_route(env: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [
        sys.executable, "-m", "eval_anything.integrations.lm_eval_cli", "run",
        "--model", "eval-anything",
        "--model_args", f"adapter=hf,pretrained={env['model']},dtype=float32",
        "--tasks", "tiny_mc", "--include_path", str(env["tasks"]), "--device", "cpu",
        "--output_path", str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **OFFLINE},
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result_files = list(out.rglob("results_*.json"))
    assert len(result_files) == 1
    acc = json.loads(result_files[0].read_text())["results"]["tiny_mc"]["acc,none"]
    assert 0.0 <= acc <= 1.0
    assert "eval-anything" in proc.stdout


# ---------------------------------------------------------------------- pure helpers


def test_generation_kwargs_mapping() -> None:
    greedy = lm_eval_gen_config({"until": ["\n\n", "Q:"], "max_gen_toks": 12, "do_sample": False})
    assert greedy.greedy and greedy.max_new_tokens == 12 and greedy.stop == ("\n\n", "Q:")
    sampled = lm_eval_gen_config({"until": "END", "do_sample": True, "temperature": 0.7})
    assert sampled.temperature == 0.7 and sampled.stop == ("END",)
    assert lm_eval_gen_config({}).max_new_tokens == 256
    assert cut_at_stop("4\n\nQ: next", ("\n\n", "Q:")) == "4"


def test_choices_of_one_item_share_one_request() -> None:
    pairs = [("A?", " x"), ("A?", " y"), ("B?", " x"), ("A?", " z")]
    assert list(_group_by_context(pairs)) == [("A?", [0, 1]), ("B?", [2]), ("A?", [3])]


def test_metric_table_names_filters_and_stderr() -> None:
    table = {
        "alias": "t", "exact_match,strict-match": 0.5, "exact_match_stderr,strict-match": 0.1,
        "acc,none": 0.25, "acc_stderr,none": "N/A", "sample_len": 4,
    }
    got = parse_metric_table(table, 4)
    assert set(got) == {"exact_match/strict-match", "acc"}
    assert got["exact_match/strict-match"].ci_low == pytest.approx(0.5 - 1.959963984540054 * 0.1)
    assert got["acc"].stderr is None


def test_sharded_lm_eval_task_merges_to_unsharded(env: dict[str, Path], tmp_path: Path) -> None:
    """merge recomputes lm-eval's mean metrics (and their stderr) from the merged records."""
    from eval_anything.core.results import ModelInfo, Results
    from eval_anything.core.results_files import write_results
    from eval_anything.models.scripted import ScriptedModel
    from eval_anything.run.merge import merge_runs

    model = ScriptedModel(default="blue")
    name = "lm_eval:tiny_mc"

    def run(shard: str | None, out: Path) -> Any:
        spec = RunSpec(model="scripted", tasks=[name], shard=shard)
        tr = run_lm_eval_task(model, name, spec, out, include_paths=[env["tasks"]])
        info = ModelInfo(adapter="scripted", name="scripted", identity=model.identity_hash())
        write_results(out, Results(run_id=out.name, created_at="now", spec=spec, model=info,
                                   tasks={name: tr}))
        return tr

    full = run(None, tmp_path / "full")
    for i in range(3):
        run(f"{i}/3", tmp_path / f"s{i}")
    merged = merge_runs([tmp_path / f"s{i}" for i in range(3)], tmp_path / "merged")
    for metric in ("acc", "acc_norm"):
        assert merged.tasks[name].metrics[metric].value == pytest.approx(full.metrics[metric].value)
        assert merged.tasks[name].metrics[metric].stderr == pytest.approx(
            full.metrics[metric].stderr
        )
    assert merged.tasks[name].n == 9


@pytest.mark.slow
def test_runner_route_writes_our_results(env: dict[str, Path], tmp_path: Path) -> None:
    """``evaluate(..., tasks=["lm_eval:tiny_mc"])`` end to end, lm-eval include paths passed
    through RunSpec.lm_eval_include_paths."""
    from eval_anything import evaluate
    from eval_anything.models.scripted import ScriptedModel

    res = evaluate("scripted", ["lm_eval:tiny_mc"], output_dir=tmp_path / "run", cache_path=None,
                   progress=False, adapter=ScriptedModel(default="red"),
                   lm_eval_include_paths=[env["tasks"]])
    tr = res.tasks["lm_eval:tiny_mc"]
    assert tr.n == 9 and tr.metrics["acc"].value == pytest.approx(3 / 9)
    assert len(read_sample_records(tmp_path / "run", "lm_eval:tiny_mc")) == 9
