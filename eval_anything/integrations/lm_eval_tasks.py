"""Run lm-eval task definitions (``--tasks lm_eval:<name>``) through an eval-anything adapter.

lm-eval does everything it does for its own backends (prompts, few-shot, filters, metrics,
stderr, group aggregation); the model calls go to our adapter through
:class:`~eval_anything.integrations.lm_eval_model.EvalAnythingLM`. The outcome is written in our
format: lm-eval's metrics with their stderr (and a normal 95% CI) in a TaskResult, and one
``SampleRecord`` per document in ``samples/lm_eval:<name>.jsonl`` carrying lm-eval's per-document
metric values as scores.

Naming: lm-eval's ``acc,none`` becomes ``acc``; a metric under a filter other than ``none``
becomes ``<metric>/<filter>`` (``exact_match/strict-match``). For a group, the group's own
aggregate metrics keep their names and each member task's metrics are listed as
``<task>/<metric>``; sample ids are ``<task>/<doc_id>``.

Shards (``RunSpec.shard``) select documents ``i::n`` of every member task through lm-eval's
``samples`` argument; the fingerprint covers every document (after ``limit``), so shards of one
task share it and ``eval-anything merge`` can combine them.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval_anything.core.content import TextPart
from eval_anything.core.results import RunSpec, SampleRecord, ScoreRecord, TaskResult
from eval_anything.core.results_files import samples_path, write_sample_records
from eval_anything.errors import UserError
from eval_anything.models.base import ModelAdapter
from eval_anything.spec.catalog import LM_EVAL_PREFIX
from eval_anything.stats.intervals import MetricValue, with_ci

log = logging.getLogger(__name__)
_NOT_METRICS = {"alias", "name", "sample_len", " ", ""}
# GenerationConfig field -> lm-eval generation_kwargs key (applied to generate_until tasks)
_GEN_OVERRIDES = {"max_new_tokens": "max_gen_toks", "temperature": "temperature", "top_p": "top_p"}


def run_lm_eval_task(
    adapter: ModelAdapter,
    name: str,
    spec: RunSpec,
    run_dir: Path,
    include_paths: Sequence[Path | str] = (),
) -> TaskResult:
    """Evaluate lm-eval task or group ``name`` (``lm_eval:`` prefix optional) with ``adapter``.

    ``include_paths`` are lm-eval task folders (lm-eval's ``--include_path``); a RunSpec field
    ``lm_eval_include_paths`` is used too when the spec has one.
    """
    import lm_eval

    from eval_anything.integrations.lm_eval_model import EvalAnythingLM

    lm_name = name.removeprefix(LM_EVAL_PREFIX)
    full_name = LM_EVAL_PREFIX + lm_name
    paths = _include_paths(spec, include_paths)
    prepared = _PREPARED.pop((id(spec), lm_name, tuple(paths)), None)
    manager, loaded = prepared or checked_load(lm_name, paths, spec)
    leaves: dict[str, Any] = loaded["tasks"]
    is_group = lm_name not in leaves
    fp = lm_eval_fingerprint(leaves, spec.limit)
    selection = shard_selection(leaves, spec.limit, spec.shard, lm_name)

    lm = EvalAnythingLM(adapter=adapter, batch_size=spec.batch_size)
    top = loaded["groups"].get(lm_name) or leaves.get(lm_name)
    res = lm_eval.simple_evaluate(
        model=lm,
        tasks=[top] if top is not None else list(leaves.values()),
        task_manager=manager,
        limit=None if selection is not None else spec.limit,
        samples=selection,
        log_samples=True,
        gen_kwargs=_gen_kwargs(spec.gen_overrides) or None,
    )
    if res is None:  # only rank 0 of a distributed lm-eval run returns results
        raise RuntimeError(f"lm-eval returned no results for {lm_name!r}")

    records = []
    for leaf in leaves:
        prefix = f"{leaf}/" if is_group else ""
        records += sample_records(res["samples"].get(leaf, []), prefix, leaf)
    write_sample_records(samples_path(run_dir, full_name), records)

    metrics = _metrics_of(res, lm_name, is_group, leaves, len(records))
    scores = {n for r in records for n in r.scores}
    return TaskResult(
        task=full_name,
        task_version=str(res.get("versions", {}).get(lm_name, "lm-eval")),
        task_fingerprint=fp,
        n=len(records),
        n_unscored={s: sum(1 for r in records if r.score_value(s) is None) for s in scores},
        metrics=metrics,
        input_modalities=["text"],
        output_modalities=["text"],
        details={
            "source": "lm-eval",
            "lm_eval_version": lm_eval.__version__,
            "lm_eval_group": is_group,
            "members": list(leaves),
            "n_shot": res.get("n-shot", {}),
            "higher_is_better": res.get("higher_is_better", {}).get(lm_name, {}),
            # how lm-eval reduces each metric: eval-anything merge recomputes only means
            "aggregations": {} if is_group else aggregations_of(leaves[lm_name]),
        },
    )


class LmEvalTaskError(UserError):
    """An ``lm_eval:`` task that lm-eval cannot load (unknown name, a dataset it cannot read,
    a broken task YAML): raised while planning, before any model is loaded or file written."""


# tasks loaded by prepare_lm_eval_tasks for one run (its RunSpec), handed to run_lm_eval_task:
# loading twice costs seconds. A new run's prepare drops what an earlier, failed run left.
_PREPARED: dict[tuple[int, str, tuple[str, ...]], tuple[Any, dict[str, Any]]] = {}


def _include_paths(spec: RunSpec, include_paths: Sequence[Path | str] = ()) -> list[str]:
    extra = getattr(spec, "lm_eval_include_paths", None) or ()
    return [str(p) for p in (*include_paths, *extra)]


def prepare_lm_eval_tasks(
    names: Sequence[str], spec: RunSpec, include_paths: Sequence[Path | str] = ()
) -> None:
    """Load and check every ``lm_eval:`` task of a run before the model is loaded: the name,
    its documents and (with ``--shard``) the shard's share of them. Raises LmEvalTaskError
    naming the task; keeps what it loaded for :func:`run_lm_eval_task`."""
    paths = _include_paths(spec, include_paths)
    _PREPARED.clear()
    for name in names:
        lm_name = name.removeprefix(LM_EVAL_PREFIX)
        _PREPARED[(id(spec), lm_name, tuple(paths))] = checked_load(lm_name, paths, spec)


def checked_load(lm_name: str, paths: list[str], spec: RunSpec) -> tuple[Any, dict[str, Any]]:
    """:func:`load_lm_eval_task` with every failure as one LmEvalTaskError line."""
    where = f"--tasks {LM_EVAL_PREFIX}{lm_name}"
    try:
        manager, loaded = load_lm_eval_task(lm_name, paths)
        leaves = loaded["tasks"]
        for task in leaves.values():
            len(task.eval_docs)  # lm-eval reads the documents lazily for some tasks
    except LmEvalTaskError:
        raise
    except Exception as e:  # lm-eval and datasets raise many types for one cause
        raise LmEvalTaskError(f"{where}: lm-eval cannot load it: {_one_line(e)}{_hint(e)}") from e
    try:
        shard_selection(leaves, spec.limit, spec.shard, lm_name)
    except ValueError as e:
        raise LmEvalTaskError(str(e)) from None
    return manager, loaded


def _one_line(e: BaseException) -> str:
    text = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def _hint(e: BaseException) -> str:
    text = str(e)
    if "Offline" in text or "Couldn't reach" in text or isinstance(e, ConnectionError):
        return (" (the dataset is not in the local Hugging Face cache and the hub cannot be "
                "reached: download it once with network access, or unset HF_DATASETS_OFFLINE)")
    return " (check the task's YAML and its dataset; a local task's folder: --lm-eval-include-path)"



def load_lm_eval_task(name: str, include_paths: list[str]) -> tuple[Any, dict[str, Any]]:
    """lm-eval's TaskManager and loaded task dict. Indexing lm-eval's own catalog costs seconds,
    so a name found in ``include_paths`` alone is loaded without it."""
    from lm_eval.tasks import TaskManager

    if include_paths:
        local = TaskManager(include_path=include_paths, include_defaults=False)
        if name in local.all_tasks:
            try:
                return local, local.load([name])
            except (KeyError, ValueError):  # a local group of built-in tasks
                pass
    manager = TaskManager(include_path=include_paths or None)
    if name not in manager.all_tasks:
        close = [t for t in manager.all_tasks if name in t][:5]
        hint = f" (similar: {', '.join(close)})" if close else ""
        raise LmEvalTaskError(
            f"--tasks {LM_EVAL_PREFIX}{name}: lm-eval has no task or group {name!r}{hint}; "
            "for a local task pass its folder with --lm-eval-include-path"
        )
    return manager, manager.load([name])


def _doc_hash(doc: Any) -> str:
    """lm-eval's own doc hash (sha256 of the indented JSON), so records match its logs."""
    from lm_eval.utils import handle_non_serializable

    text = json.dumps(doc, indent=2, default=handle_non_serializable, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _stable(o: Any) -> Any:
    """JSON for task configs: functions by module, name and source, never by address."""
    if callable(o):
        try:
            src = inspect.getsource(o)
        except (OSError, TypeError):
            src = ""
        name = f"{getattr(o, '__module__', '')}.{getattr(o, '__qualname__', type(o).__name__)}"
        return {"callable": name, "source_sha256": hashlib.sha256(src.encode()).hexdigest()}
    return str(o)


def _limited(n_docs: int, limit: float | None) -> int:
    """Documents lm-eval evaluates under ``limit`` (below 1: a fraction, as lm-eval reads it)."""
    if limit is None:
        return n_docs
    k = math.ceil(n_docs * limit) if limit < 1 else int(limit)
    return min(n_docs, k)


def lm_eval_fingerprint(leaves: dict[str, Any], limit: int | None) -> str:
    """sha256 over each member task's config (paths and run metadata left out) and the hash
    of every document evaluated (after ``limit``, before sharding)."""
    h = hashlib.sha256()
    for name in sorted(leaves):
        task = leaves[name]
        cfg = dict(task.dump_config())
        cfg.pop("metadata", None)
        kwargs = dict(cfg.get("dataset_kwargs") or {})
        kwargs.pop("data_files", None)  # absolute paths; the documents are hashed below
        cfg["dataset_kwargs"] = kwargs
        h.update(name.encode() + b"\0")
        h.update(json.dumps(cfg, sort_keys=True, default=_stable).encode())
        docs = task.eval_docs
        n = _limited(len(docs), limit)
        for digest in sorted(_doc_hash(docs[i]) for i in range(n)):
            h.update(digest.encode())
    return h.hexdigest()


def shard_selection(
    leaves: dict[str, Any], limit: int | None, shard: str | None, name: str
) -> dict[str, list[int]] | None:
    """lm-eval ``samples``: document indices ``i::n`` of each member task, or None (no shard)."""
    if shard is None:
        return None
    i, n = (int(x) for x in shard.split("/"))
    out: dict[str, list[int]] = {}
    for leaf, task in leaves.items():
        picked = list(range(_limited(len(task.eval_docs), limit)))[i::n]
        if not picked:  # lm-eval reads an empty selection as "every document"
            raise ValueError(
                f"--shard {shard}: lm-eval task {leaf!r} (in {name!r}) has too few documents "
                f"for {n} shards; use fewer shards"
            )
        out[leaf] = picked
    return out


def aggregations_of(task: Any) -> dict[str, str]:
    """Our metric name -> lm-eval aggregation name, for every filter of the task."""
    aggs = {m: getattr(fn, "__name__", str(fn)) for m, fn in task.aggregation().items()}
    filters = [f.name for f in getattr(task, "_filters", [])] or ["none"]
    return {metric_key(m, f): a for f in filters for m, a in aggs.items()}


def metric_key(metric: str, filt: str) -> str:
    return metric if filt == "none" else f"{metric}/{filt}"


def _gen_kwargs(overrides: dict[str, Any]) -> dict[str, Any]:
    out = {_GEN_OVERRIDES[k]: v for k, v in overrides.items() if k in _GEN_OVERRIDES}
    if "stop" in overrides:
        out["until"] = list(overrides["stop"])
    if out.get("temperature", 0) > 0:
        out["do_sample"] = True
    return out


# ---------------------------------------------------------------------- results mapping


def parse_metric_table(table: dict[str, Any], n: int, prefix: str = "") -> dict[str, MetricValue]:
    """lm-eval's ``{"acc,none": v, "acc_stderr,none": se}`` -> our metrics with 95% CIs."""
    out: dict[str, MetricValue] = {}
    for key, value in table.items():
        if key in _NOT_METRICS or "," not in key or "_stderr," in key:
            continue
        metric, _, filt = key.partition(",")
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        se = table.get(f"{metric}_stderr,{filt}")
        se = float(se) if isinstance(se, int | float) and not isinstance(se, bool) else None
        out[prefix + metric_key(metric, filt)] = with_ci(float(value), se, n)
    return out


def _metrics_of(
    res: dict[str, Any], name: str, is_group: bool, leaves: dict[str, Any], n: int
) -> dict[str, MetricValue]:
    n_eff = {k: v.get("effective", n) for k, v in res.get("n-samples", {}).items()}
    if not is_group:
        return parse_metric_table(res["results"].get(name, {}), n_eff.get(name, n))
    table = res.get("groups", {}).get(name) or res["results"].get(name, {})
    metrics = parse_metric_table(table, n)
    for leaf in leaves:
        table = res["results"].get(leaf, {})
        metrics.update(parse_metric_table(table, n_eff.get(leaf, n), f"{leaf}/"))
    return metrics


def sample_records(examples: list[dict[str, Any]], prefix: str, task: str) -> list[SampleRecord]:
    """lm-eval's logged samples (one per document and filter) -> one record per document."""
    by_doc: dict[int, list[dict[str, Any]]] = {}
    for ex in examples:
        by_doc.setdefault(int(ex["doc_id"]), []).append(ex)
    records = []
    for doc_id in sorted(by_doc):
        exs = by_doc[doc_id]
        first = exs[0]
        args = [tuple(a) for a in first["arguments"]]
        context = str(args[0][0]) if args else ""
        scores: dict[str, ScoreRecord] = {}
        filtered: dict[str, Any] = {}
        for ex in exs:
            filtered[ex["filter"]] = _jsonable(ex["filtered_resps"])
            for metric in ex["metrics"]:
                scores[metric_key(metric, ex["filter"])] = _score(ex.get(metric))
        meta: dict[str, Any] = {"lm_eval_task": task, "doc_id": doc_id, "filtered_resps": filtered}
        output, lls = _output_of(args, first["resps"])
        if lls is not None:
            meta["choice_logprobs"] = lls
        records.append(
            SampleRecord(
                sample_id=f"{prefix}{doc_id}",
                input_ref=first.get("doc_hash") or _doc_hash(first.get("doc")),
                input=[TextPart(text=context)],
                target=None if first.get("target") is None else str(first["target"]),
                prompt_hash=first.get("prompt_hash") or _sha(context),
                output=[TextPart(text=output)],
                scores=scores,
                consumed_modalities=["text"],
                metadata=meta,
            )
        )
    return records


def _output_of(args: list[tuple[Any, ...]], resps: list[Any]) -> tuple[str, list[float] | None]:
    """Generation: the raw text. Log-likelihood requests: the best-scoring continuation."""
    first = resps[0][0] if resps and resps[0] else ""
    if isinstance(first, str):
        return first, None
    lls = [float(r[0][0]) for r in resps]
    best = max(range(len(lls)), key=lambda i: lls[i])
    cont = args[best][1] if len(args[best]) > 1 else ""
    return str(cont).strip(), lls


def _score(value: Any) -> ScoreRecord:
    if isinstance(value, bool | int | float):
        return ScoreRecord(value=float(value))
    return ScoreRecord(
        value=None,
        unscored_reason="corpus-level metric: lm-eval aggregates the items over the task",
        details={"item": _jsonable(value)},
    )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _jsonable(o: Any) -> Any:
    return json.loads(json.dumps(o, default=str))
