"""Several verdicts behind one score: judge panels and repeated judging.

- ``panel:COMBINE:MEMBER+MEMBER+...`` (``--judge judge=panel:mean:keyword+smollm2``): a role
  bound to several judges. ``COMBINE`` is ``mean``, ``median`` or ``majority``; members are
  whole bindings of their own, split on ``+`` outside brackets, so a member may hold ``:`` and
  ``,`` (``panel:median:openai:gpt-4o,base_url=http://h/v1+smollm2``); a member whose text
  holds ``+`` is written in square brackets (``panel:mean:[hf:/models/a+b]+keyword``).
- ``repeats:K:BINDING`` (what ``--judge-repeats K`` binds every role to): one sampling judge
  asked K times per item, repeat ``r`` with seed ``r``; the item's score is the mean.

Every member's (or repeat's) verdict is kept in the score record's ``details`` (``panel`` or
``repeats``: a list of ``{"judge", "value", "reason"}``), with ``level``, the level of
measurement of the item's verdicts (``interval`` for ratings, ``nominal`` for choices), so the
run's agreement figures (:mod:`eval_anything.judges.calibration.consistency`) can be computed
from the sample log alone.

A member that gives no verdict (an unparseable answer) is left out of the combination; a member
whose model call failed for good makes the item fail (``judge model error``): a rerun into the
folder retries it, and the members that answered come back from the judgment cache.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eval_anything import registry
from eval_anything.core.requests import RequestFlow
from eval_anything.errors import ConfigError
from eval_anything.judges.base import Judge, JudgeItem, Judgment, build_judge, unsupported
from eval_anything.model_args import split_members
from eval_anything.scoring.tifa import score_choice

if TYPE_CHECKING:
    from eval_anything.run.cache import ResponseCache

COMBINATIONS = ("mean", "median", "majority")
NOMINAL_KINDS = ("tifa", "pairwise")  # choices; every other kind is a rating
JUDGE_ERROR = "judge model error"


def level_of(kind: str) -> str:
    """The level of measurement of a judge item kind's verdicts (Krippendorff's alpha's)."""
    return "nominal" if kind in NOMINAL_KINDS else "interval"


def _majority(values: list[float]) -> float | None:
    """The value most members gave; None when the top count is shared (a split panel)."""
    top = Counter(values).most_common()
    if len(top) > 1 and top[0][1] == top[1][1]:
        return None
    return top[0][0]


COMBINE: dict[str, Callable[[list[float]], float | None]] = {
    "mean": statistics.fmean,
    "median": statistics.median,
    "majority": _majority,
}


class CombinedJudge(Judge):
    """Judges whose verdicts on each item are combined into one (a panel, or repeats)."""

    def __init__(self, members: list[Judge], combine: str, field: str, label: str) -> None:
        if combine not in COMBINE:
            raise ConfigError(f"{label}: combination {combine!r}; choose one of "
                              f"{', '.join(COMBINATIONS)}")
        self.members = members
        self.combine = combine
        self.field = field
        self.label = label

    def template_hash(self) -> str | None:
        return self.members[0].template_hash()

    def supports(self, kind: str) -> bool:
        return all(m.supports(kind) for m in self.members)

    def request_flow(self, batch_size: int) -> RequestFlow:
        """Concurrent only when every member takes calls from several threads (all served);
        one local member makes the whole panel take batches, one call at a time."""
        flows = [m.request_flow(batch_size) for m in self.members]
        if all(f.is_concurrent for f in flows):
            return RequestFlow.concurrent(min(f.in_flight for f in flows))
        return RequestFlow.batches(batch_size)

    def member_name(self, index: int) -> str:
        return self.members[index].identity()

    def judge(self, items: list[JudgeItem]) -> list[Judgment]:
        per_member = [m.judge(items) for m in self.members]
        out: list[Judgment] = []
        for i, item in enumerate(items):
            if not self.supports(item.kind):
                out.append(unsupported(self, item))
                continue
            out.append(self._combined(item, [row[i] for row in per_member]))
        return out

    def _combined(self, item: JudgeItem, verdicts: list[Judgment]) -> Judgment:
        if item.kind == "tifa":  # a member that gives only its chosen option: scored 10 or 0
            verdicts = [score_choice(v, item) for v in verdicts]
        kept = [
            {"judge": self.member_name(k), "value": v.value, "reason": v.reason,
             **({"choice": v.choice} if v.choice is not None else {})}
            for k, v in enumerate(verdicts)
        ]
        details: dict[str, Any] = {self.field: kept, "level": level_of(item.kind)}
        raw = "\n".join(f"[{e['judge']}]\n{v.raw or ''}" for e, v in zip(kept, verdicts,
                                                                          strict=True))
        failed = [(k, v) for k, v in enumerate(verdicts) if (v.reason or "").startswith(
            JUDGE_ERROR)]
        if failed:
            k, v = failed[0]
            return Judgment(None, raw=raw, reason=f"{v.reason} ({self.field} {k + 1} of "
                            f"{len(verdicts)})", details=details)
        values = [v.value for v in verdicts if v.value is not None]
        if not values:
            return Judgment(None, raw=raw, reason=f"no {self.field} member gave a verdict",
                            details=details)
        value = COMBINE[self.combine](values)
        if value is None:
            return Judgment(None, raw=raw, details=details,
                            reason=f"{self.field} split evenly; majority undefined")
        outs = {v.out_of for v in verdicts if v.out_of is not None}
        return Judgment(float(value), raw=raw, prompt_hash=verdicts[0].prompt_hash,
                        details=details, out_of=outs.pop() if len(outs) == 1 else None)

    def close(self) -> None:
        for m in self.members:
            m.close()


class PanelJudge(CombinedJudge):
    def __init__(self, members: list[Judge], combine: str, label: str) -> None:
        super().__init__(members, combine, "panel", label)

    def identity(self) -> str:
        return f"panel({self.combine}):" + "+".join(f"[{m.identity()}]" for m in self.members)


    def reseeded(self, seed: int) -> PanelJudge | None:
        """The panel of its members reseeded (None unless every member samples)."""
        copies = [m.reseeded(seed) for m in self.members]
        if any(c is None for c in copies):
            return None
        return PanelJudge([c for c in copies if c is not None], self.combine, self.label)


class RepeatJudge(CombinedJudge):
    """One judge asked ``len(members)`` times; ``members[r]`` is the judge reseeded with ``r``."""

    def __init__(self, members: list[Judge], label: str) -> None:
        super().__init__(members, "mean", "repeats", label)

    def identity(self) -> str:
        return f"repeats({len(self.members)}):{self.members[0].identity()}"

    def member_name(self, index: int) -> str:
        return f"seed={index}"

    def close(self) -> None:
        self.members[0].close()  # the copies share its model


def reseeded_copies(judge: Judge, repeats: int, label: str) -> list[Judge]:
    """``judge`` reseeded with 0 .. repeats-1; a judge that does not sample is refused (its
    repeats would all agree and say nothing about its variance)."""
    copies = [judge.reseeded(r) for r in range(repeats)]
    if any(c is None for c in copies):
        raise ConfigError(
            f"{label}: judge {judge.identity()} does not sample, so its repeats would all agree; "
            "give it a temperature (e.g. openai:MODEL,temperature=0.7) or drop --judge-repeats"
        )
    return [c for c in copies if c is not None]


def repeated_judge(judge: Judge, repeats: int, label: str) -> Judge:
    """``judge`` asked ``repeats`` times per item (itself when ``repeats`` is 1)."""
    if repeats < 1:
        raise ConfigError(f"{label}: --judge-repeats must be 1 or more (got {repeats})")
    if repeats == 1:
        return judge
    return RepeatJudge(reseeded_copies(judge, repeats, label), label)


@registry.register("judge", "panel")
def panel_judge(arg: str | None, cache: ResponseCache | None = None) -> PanelJudge:
    """``panel:COMBINE:MEMBER+MEMBER+...``: each member built from its own binding."""
    label = f"--judge panel:{arg or ''}"
    combine, sep, rest = (arg or "").partition(":")
    if not sep or combine not in COMBINE:
        raise ConfigError(f"{label}: expected panel:COMBINE:MEMBER+MEMBER+..., COMBINE one of "
                          f"{', '.join(COMBINATIONS)} (e.g. panel:mean:keyword+smollm2)")
    members = split_members(rest)
    if len(members) < 2:
        raise ConfigError(f"{label}: a panel needs two or more members joined by '+'")
    built: list[Judge] = []
    try:
        for m in members:
            built.append(build_judge(m, cache=cache, where=f"{label} member {m}"))
    except Exception:
        for j in built:
            j.close()
        raise
    return PanelJudge(built, combine, label)


@registry.register("judge", "repeats")
def repeats_judge(arg: str | None, cache: ResponseCache | None = None) -> Judge:
    """``repeats:K:BINDING``: the sampling judge of BINDING asked K times per item."""
    label = f"--judge repeats:{arg or ''}"
    count, sep, inner = (arg or "").partition(":")
    if not sep or not count.isdigit() or not inner:
        raise ConfigError(f"{label}: expected repeats:K:BINDING (e.g. "
                          "repeats:3:openai:MODEL,temperature=0.7)")
    judge = build_judge(inner, cache=cache, where=label)
    try:
        return repeated_judge(judge, int(count), label)
    except ConfigError:
        judge.close()
        raise
