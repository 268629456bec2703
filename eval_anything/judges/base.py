"""Judges are bound to roles (``judge``, ``image_judge``, ``av_judge``, ``synergy_judge``, ...).

A binding string is ``kind`` or ``kind:arg`` (``smollm2``, ``keyword``, ``hf:/path/to/model``,
``openai:gpt-4o``); ``kind`` names a judge factory in the registry (kind ``judge``), called as
``factory(arg, cache=...)``. Every judge reports an identity string, written into results so a
score always says who gave it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, get_args

from eval_anything import registry
from eval_anything.core.requests import RequestFlow
from eval_anything.errors import ConfigError, UserError
from eval_anything.model_args import parse_binding

if TYPE_CHECKING:
    from eval_anything.run.cache import ResponseCache

# What a scorer may ask a judge to do (JudgeItem.kind):
#   amu        rate an answer 1-10 against human references and keywords (by evaluation dimension)
#   text_if    rate how well a text follows an instruction, 1-10
#   image_if   rate a generated image against its instruction on the 4/3/2/1 rubric, 0-10
#   tifa       answer a multiple-choice question about generated audio/video (10 right, 0 wrong)
#   synergy    rate how well two generated modalities work together, 0-1
#   pairwise   prefer answer A or B (position-swapped), 1 / 0.5 / 0 for A
JudgeKind = Literal["amu", "text_if", "image_if", "tifa", "synergy", "pairwise"]
JUDGE_KINDS: tuple[JudgeKind, ...] = get_args(JudgeKind)


@dataclass
class JudgeItem:
    """One thing to judge. Media parts carry absolute paths (scorers resolve them)."""

    kind: JudgeKind
    prompt: str
    response: str = ""
    media: list[Any] = field(default_factory=list)
    references: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Judgment:
    """A judge's verdict; ``value`` None is unscored (with ``reason``), never a zero.

    Judges give verdicts and scorers apply the formulas: a judge that picks an option of a
    multiple-choice question gives its letter as ``choice`` (the TIFA scorer turns it into 10 or
    0, :mod:`eval_anything.scoring.tifa`); a judge that rates on its own scale gives ``value`` and
    the top of that scale as ``out_of`` when a scorer rescales it (a 1-10 synergy rating,
    :mod:`eval_anything.scoring.synergy`)."""

    value: float | None
    raw: str | None = None
    prompt_hash: str | None = None
    reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    choice: str | None = None
    out_of: float | None = None

    @property
    def has_verdict(self) -> bool:
        return self.value is not None or self.choice is not None

    def to_record(self, judge: str, extra: dict[str, Any] | None = None) -> Any:
        from eval_anything.core.results import ScoreRecord

        return ScoreRecord(
            value=self.value,
            unscored_reason=self.reason if self.value is None else None,
            judge=judge,
            prompt_hash=self.prompt_hash,
            raw_judgment=self.raw,
            details={**self.details, **(extra or {})},
        )


class Judge(ABC):
    """Base class of judges. ``kinds`` lists the JudgeItem kinds the judge can rate."""

    kinds: ClassVar[tuple[JudgeKind, ...]] = ()

    @abstractmethod
    def identity(self) -> str:
        """Stable description: judge kind plus model identity (hash) where there is a model."""

    def template_hash(self) -> str | None:
        return None

    def supports(self, kind: str) -> bool:
        return kind in self.kinds

    def judge(self, items: list[JudgeItem]) -> list[Judgment]:
        """One Judgment per item, in order. Items of a kind the judge lacks are unscored."""
        raise NotImplementedError(f"judge {self.identity()} does not rate items")

    def request_flow(self, batch_size: int) -> RequestFlow:
        """How the runner should hand this judge its items (see ``eval_anything/request_flow``):
        by default batches on one thread, as a judge computed in this process wants. A judge
        over a served model returns a concurrent flow and must then accept calls from several
        threads at once."""
        return RequestFlow.batches(batch_size)

    def reseeded(self, seed: int) -> Judge | None:
        """This judge sampling with another ``seed`` (sharing its model), for repeated judging;
        None for a judge that does not sample (its repeats would all agree)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


def unsupported(judge: Judge, item: JudgeItem) -> Judgment:
    return Judgment(value=None, reason=f"judge {judge.identity()} cannot rate {item.kind!r} items")


def require_kind(judge: Any, role: str, kinds: tuple[str, ...]) -> None:
    """Fail with a message naming the role when ``judge`` rates none of ``kinds`` (e.g. a
    keyword judge bound to ``image_judge``)."""
    if any(judge.supports(k) for k in kinds):
        return
    raise UserError(
        f"judge role {role!r} is bound to {judge.identity()}, which cannot rate "
        f"{'/'.join(kinds)} items; bind another with --judge {role}=BINDING "
        "(docs/benchmarks_eval_anything.md lists what each judge rates)"
    )


def build_judge(binding: str, cache: ResponseCache | None = None, where: str = "--judge") -> Judge:
    """The judge a binding names (``KIND[:ARGS]``, :func:`eval_anything.model_args.parse_binding`),
    built by its registered factory, ``factory(ARGS or None, cache=cache)``. Arguments the
    factory refuses are a :class:`ConfigError` naming the binding."""
    parsed = parse_binding(binding, flag=where)
    factory = registry.judge_factory(parsed.kind, where=where)
    try:
        judge = factory(parsed.rest, cache=cache)
    except UserError:
        raise
    except (TypeError, ValueError, FileNotFoundError) as e:
        # judge factories check their binding's arguments and name the flag
        msg = str(e)
        raise ConfigError(msg if where in msg else f"{where} {binding}: {msg}") from e
    return judge


def parse_judge_options(items: list[str] | None) -> dict[str, str]:
    """``['judge=openai:gpt-4o', 'av_judge=scripted:x.json']`` -> {role: binding}."""
    out: dict[str, str] = {}
    for item in items or []:
        role, sep, binding = item.partition("=")
        if not sep or not role or not binding:
            raise UserError(f"--judge {item!r}: expected ROLE=BINDING, e.g. judge=smollm2")
        out[role.strip()] = binding.strip()
    return out
