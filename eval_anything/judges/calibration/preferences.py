"""A judge against annotators' preferences, straight from the align-anything preference layouts:
``eval-anything agreement --judge judge=BINDING --preferences DATA``.

The rows are read by the trainers' readers (:mod:`eval_anything.trainers.data`), so every layout
and media spelling a DPO run accepts is accepted here: text (``response_0/1`` with
``better_response_id``), text with an image, audio or video (``response_1/2`` with
``overall_response`` or another ``*_response`` field through ``preference_field``), TRL's
``prompt, chosen, rejected`` and language-feedback rows.

Each pair goes to the judge's pairwise mode (:meth:`eval_anything.judges.llm.LLMJudge.compare`)
with the row's media, which asks for a preference in both orders. The first order shows the
responses as the row numbers them (``response_1`` as A); rows that hold no order (``chosen`` /
``rejected``, ``refinement`` / ``response``) show the preferred answer first on even rows and
second on odd rows, so neither position is favoured. Figures: :func:`order_agreement`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval_anything.errors import ConfigError, UserError
from eval_anything.judges.base import Judge, JudgeItem, build_judge, require_kind
from eval_anything.judges.calibration.report import AgreementReport, ScoreAgreement
from eval_anything.stats import agreement as stats

FIRST, SECOND, TIE = 0, 1, 2
# a verdict letter in the order shown -> which response it prefers
_AS_SHOWN = {"A": FIRST, "B": SECOND, "C": TIE}
_SWAPPED = {"A": SECOND, "B": FIRST, "C": TIE}


class PreferencesError(UserError):
    """Preference rows or a judge that cannot be used; the message names which and the fix."""


def preference_items(
    data: Path | str, preference_field: str | None = None, limit: int | None = None,
) -> tuple[list[JudgeItem], list[int], dict[str, Any]]:
    """The pairs of ``data`` as pairwise judge items (first response as ``response``, the
    other as ``metadata['response_b']``, the row's media attached), the annotators' choice of
    each (``FIRST`` or ``SECOND``) and facts about the file (layout, deciding field)."""
    from eval_anything.trainers.data.formats import PREFERENCE_FORMATS, resolve_format, to_pairs
    from eval_anything.trainers.data.row_files import read_rows

    path = Path(data)
    if not path.exists():
        raise PreferencesError(f"--preferences {path}: file not found")
    try:
        rows = read_rows(path, limit)
    except ConfigError as e:  # the trainers' reader names its config field; here it is a flag
        raise PreferencesError(str(e).replace("field 'data.train': ", "--preferences ")) from e
    fmt = resolve_format(rows, "auto", str(path))
    if fmt not in PREFERENCE_FORMATS:
        raise PreferencesError(
            f"--preferences {path}: rows in the {fmt!r} layout hold no preference; give rows "
            "with response_0/response_1 and better_response_id, response_1/response_2 and "
            "overall_response (or --preference-field), or prompt/chosen/rejected"
        )
    root = path.parent if path.is_file() else path
    pairs = to_pairs(rows, fmt, str(path), root, preference_field)
    items, human = [], []
    fields: set[str] = set()
    for i, (row, pair) in enumerate(zip(rows, pairs, strict=True)):
        decided_by = pair.metadata.get("preference_field")
        if decided_by is not None:  # the align-anything layouts: keep the row's order
            fields.add(str(decided_by))
            base = 0 if "response_0" in row else 1
            first, second = str(row[f"response_{base}"]), str(row[f"response_{base + 1}"])
            choice = FIRST if int(row[decided_by]) == base else SECOND
        else:
            first, second, choice = pair.chosen, pair.rejected, FIRST
            if i % 2:
                first, second, choice = second, first, SECOND
        items.append(JudgeItem(kind="pairwise", prompt=pair.prompt, response=first,
                               media=[m.part for m in pair.media],
                               metadata={"response_b": second}))
        human.append(choice)
    facts: dict[str, Any] = {"data": str(path), "format": fmt}
    if fields:
        facts["preference_field"] = sorted(fields)[0] if len(fields) == 1 else sorted(fields)
    return items, human, facts


def check_judge_reads(judge: Judge, items: list[JudgeItem], where: str) -> None:
    """Refuse a judge whose model cannot take the pairs' media: it would compare the answers
    to a question about a picture it never saw."""
    adapter = getattr(judge, "adapter", None)
    takes = set(getattr(adapter, "input_modalities", ("text",)))
    needed = sorted({p.type for it in items for p in it.media} - takes)
    if needed:
        raise PreferencesError(
            f"{where}: judge {judge.identity()} reads {', '.join(sorted(takes))} but the pairs "
            f"carry {', '.join(needed)}; bind a judge whose model takes {', '.join(needed)} "
            "(an hf or openai judge of a multimodal model)"
        )


def agreement_with_preferences(
    binding: str, data: Path | str, preference_field: str | None = None,
    limit: int | None = None, cache_path: Path | str | None | bool = True,
    batch_size: int = 8, resamples: int = stats.DEFAULT_RESAMPLES,
    seed: int = stats.DEFAULT_SEED, progress: bool = False, role: str = "judge",
) -> AgreementReport:
    """The judge ``binding`` (``--judge ROLE=BINDING``) asked about every pair of ``data`` in
    both orders, against the annotators (module doc)."""
    from eval_anything.progress import ProgressReporter
    from eval_anything.run.cache import ResponseCache, cache_file

    items, human, facts = preference_items(data, preference_field, limit)
    cache = ResponseCache(cache_file(cache_path))
    judge = build_judge(binding, cache=cache, where=f"--judge {role}")
    try:
        require_kind(judge, role, ("pairwise",))
        check_judge_reads(judge, items, f"--preferences {data}")
        bars = ProgressReporter(progress)
        bar = bars.task("pairs (both orders)", len(items))
        judgments = []
        try:
            for start in range(0, len(items), max(1, batch_size)):
                chunk = items[start:start + max(1, batch_size)]
                judgments += judge.judge(chunk)
                bar.advance(len(chunk))
        finally:
            bars.close()
        identity = judge.identity()
    finally:
        judge.close()
        cache.close()
    first, second, annotators, unscored = [], [], [], 0
    for j, choice in zip(judgments, human, strict=True):
        ab, ba = j.details.get("order_ab"), j.details.get("order_ba")
        if j.value is None or ab not in _AS_SHOWN or ba not in _SWAPPED:
            unscored += 1
            continue
        first.append(_AS_SHOWN[ab])
        second.append(_SWAPPED[ba])
        annotators.append(choice)
    figures = stats.order_agreement(first, second, annotators, categories=[FIRST, SECOND, TIE],
                                    tie=TIE, resamples=resamples, seed=seed)
    entry = ScoreAgreement(
        score=None, kind="preference", judges=[identity], n=len(first), n_labels=len(items),
        n_unscored=unscored, resamples=resamples, seed=seed, details=facts,
        figures={name: figures[name] for name in
                 ("accuracy", "kappa", "position_consistency", "tie_rate")},
    )
    return AgreementReport(preferences={str(data): entry})
