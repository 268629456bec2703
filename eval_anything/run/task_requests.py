"""Turn samples into model requests, answer them through the cache, score them, log them."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from eval_anything.core.content import TextPart
from eval_anything.core.outputs import LoglikelihoodOutput, ModelOutput
from eval_anything.core.requests import GenerateRequest, LoglikelihoodRequest, Message
from eval_anything.core.results import MEDIA_DIR, SampleRecord, ScoreRecord
from eval_anything.core.sample import Sample
from eval_anything.models.base import ModelAdapter
from eval_anything.run.cache import ResponseCache, make_key
from eval_anything.run.failures import failure_reason
from eval_anything.scoring.base import ScoreContext, Scorer
from eval_anything.spec.task import TaskSpec, cluster_of, render_input, render_system

_EXT = {"image": ".png", "audio": ".wav", "video": ".gif"}
_MIME_EXT = {"video/mp4": ".mp4", "video/webm": ".webm", "image/gif": ".gif"}


class Answer(NamedTuple):
    """One sample with the request sent for it and the model's output."""

    sample: Sample
    request: Any
    output: ModelOutput
    prompt_hash: str | None = None  # the request's content hash, when already computed


class TaskRequests:
    """Request building and cached answering for one task."""

    def __init__(
        self,
        spec: TaskSpec,
        adapter: ModelAdapter,
        cache: ResponseCache,
        run_dir: Path,
        seed: int,
        gen_overrides: dict[str, Any] | None = None,
    ) -> None:
        self.spec = spec
        self.adapter = adapter
        self.cache = cache
        self.run_dir = run_dir
        self.identity = adapter.identity_hash()
        self.answers_asked = 0  # look-ups made for this task's answers ...
        self.answers_cached = 0  # ... and those the cache answered (CacheUse)
        self._count_lock = threading.Lock()  # answer threads plan concurrently
        gen = spec.generation_config(gen_overrides)
        self.gen = gen if gen.greedy else gen.model_copy(update={"seed": seed})

    def request(self, sample: Sample) -> GenerateRequest | LoglikelihoodRequest:
        parts = render_input(self.spec, sample)
        system = render_system(self.spec, sample)
        if self.spec.request == "multiple_choice":
            if not sample.choices:
                raise ValueError(
                    f"{self.spec.file}: sample {sample.id!r} has no 'choices' but the task's "
                    "request is multiple_choice"
                )
            ctx = []
            if system:
                ctx.append(Message(role="system", content=[TextPart(text=system)]))
            ctx.append(Message(role="user", content=parts))
            return LoglikelihoodRequest(
                context=ctx,
                continuations=[self.spec.choice_delimiter + c for c in sample.choices],
                apply_chat_template=self.spec.apply_chat_template,
            )
        return GenerateRequest.from_parts(
            parts, self.gen, system, output_modalities=tuple(self.spec.output_modalities)
        )

    def is_done(self, sample: Sample, record: SampleRecord | None) -> bool:
        """Answered for this prompt and input, and not failed: an item whose model or judge
        call failed is retried by the next run into the folder."""
        if record is None or failure_reason(record) is not None:
            return False
        return (
            record.prompt_hash == self.request(sample).content_hash()
            and record.input_ref == sample.content_hash()
        )

    def respond(self, samples: list[Sample]) -> tuple[list[Any], list[ModelOutput]]:
        reqs, _, outputs = self._respond(samples)
        return reqs, outputs

    def _respond(self, samples: list[Sample]) -> tuple[list[Any], list[str], list[ModelOutput]]:
        """Requests, their content hashes (the cache key's, kept so that the records do not
        hash each request again) and outputs, in sample order."""
        reqs, hashes, keys, outputs = self.plan(samples)
        # identical requests in a batch (same key) are answered once
        first: dict[str, int] = {}
        for i, o in enumerate(outputs):
            if o is None:
                first.setdefault(keys[i], i)
        miss = list(first.values())
        if miss:
            fresh = self._call([reqs[i] for i in miss], [samples[i] for i in miss])
            by_key = {keys[i]: out for i, out in zip(miss, fresh, strict=True)}
            self.store(list(by_key), list(by_key.values()))
            outputs = [by_key[keys[i]] if o is None else o for i, o in enumerate(outputs)]
        final = [
            self._materialize(o, s.id)
            for o, s in zip(outputs, samples, strict=True)
            if o is not None
        ]
        return reqs, hashes, final

    @property
    def namespace(self) -> str:
        return "loglikelihood" if self.spec.request == "multiple_choice" else "generate"

    def plan(
        self, samples: list[Sample]
    ) -> tuple[list[Any], list[str], list[str], list[ModelOutput | None]]:
        """Requests, their content hashes, cache keys and cached outputs (None: not cached)."""
        reqs = [self.request(s) for s in samples]
        hashes = [r.content_hash() for r in reqs]
        keys = [make_key(self.namespace, self.identity, h) for h in hashes]
        outputs: list[ModelOutput | None] = []
        for k in keys:
            hit = self.cache.get(k)
            outputs.append(None if hit is None else ModelOutput.model_validate_json(hit))
        with self._count_lock:
            self.answers_asked += len(keys)
            self.answers_cached += sum(o is not None for o in outputs)
        return reqs, hashes, keys, outputs

    def store(self, keys: list[str], outputs: list[ModelOutput]) -> None:
        """Cache fresh outputs; failures are retried on the next run, never cached."""
        if self.cache.path is None:
            return  # no cache: not even the JSON of each output is worth making
        rows = [
            (k, self.namespace, o.model_dump_json())
            for k, o in zip(keys, outputs, strict=True)
            if o.error is None
        ]
        self.cache.put_many(rows)

    @property
    def streams(self) -> bool:
        """The model can send a task's requests at once and hand each answer back as it
        arrives (``start_generate``, a served model): see :class:`Submission`."""
        return self.spec.request != "multiple_choice" and hasattr(self.adapter, "start_generate")

    def submit(self, samples: list[Sample]) -> Submission:
        return Submission(self, samples)

    def answer(self, samples: list[Sample]) -> list[Answer]:
        """``respond`` as one (sample, request, output) per sample, the unit the request flow
        moves between its stages."""
        reqs, hashes, outputs = self._respond(samples)
        return [
            Answer(s, r, o, h) for s, r, o, h in zip(samples, reqs, outputs, hashes, strict=True)
        ]

    def _call(self, reqs: list[Any], samples: list[Sample]) -> list[ModelOutput]:
        if self.spec.request == "multiple_choice":
            lls = self.adapter.loglikelihood(reqs)
            return [_mc_output(ll, s) for ll, s in zip(lls, samples, strict=True)]
        return self.adapter.generate(reqs)

    def _materialize(self, out: ModelOutput, sample_id: str) -> ModelOutput:
        """Write inline media to ``RUN_DIR/media/<task>/`` and refer to them by relative path."""
        if not any(getattr(p, "data", None) is not None for p in out.parts):
            return out
        parts = []
        for i, p in enumerate(out.parts):
            data = getattr(p, "data", None)
            if data is not None:
                ext = _MIME_EXT.get(getattr(p, "mime", None) or "", _EXT[p.type])
                rel = Path(MEDIA_DIR) / self.spec.task / f"{_safe(sample_id)}-{i}{ext}"
                dest = self.run_dir / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
                p = p.model_copy(update={"data": None, "path": rel.as_posix()})
            parts.append(p)
        return out.model_copy(update={"parts": parts})


class Submission:
    """``samples`` of a task sent to a streaming model all at once (``TaskRequests.streams``).

    Planning (rendering, hashing, cache look-ups) happens here, in the caller's thread;
    ``ready`` holds the answers the cache already had. :meth:`start` sends one request per
    distinct uncached prompt and the model calls ``deliver(index, output)`` on its own thread as
    each completes; :meth:`finish`, called back in the caller's thread with what has arrived,
    caches those outputs and returns their answers (one per sample that asked that prompt)."""

    def __init__(self, treq: TaskRequests, samples: list[Sample]) -> None:
        self.treq, self.samples = treq, samples
        self.reqs, self.hashes, keys, outputs = treq.plan(samples)
        self.ready = [
            Answer(s, r, treq._materialize(o, s.id), h)
            for s, r, h, o in zip(samples, self.reqs, self.hashes, outputs, strict=True)
            if o is not None
        ]
        waiting: dict[str, list[int]] = {}
        for i, o in enumerate(outputs):
            if o is None:
                waiting.setdefault(keys[i], []).append(i)
        self.keys = list(waiting)  # one request per distinct key
        self.waiting = list(waiting.values())

    def start(self, deliver: Callable[[int, ModelOutput], None]) -> Any:
        """Send the requests; returns the model's handle, whose ``cancel()`` stops them (None
        when the cache answered everything: no request, no connection)."""
        if not self.waiting:
            return None
        reqs = [self.reqs[ix[0]] for ix in self.waiting]
        return self.treq.adapter.start_generate(reqs, deliver)  # type: ignore[attr-defined]

    def finish(self, done: list[tuple[int, ModelOutput]]) -> list[Answer]:
        self.treq.store([self.keys[j] for j, _ in done], [o for _, o in done])
        answers = []
        for j, out in done:
            for i in self.waiting[j]:
                s = self.samples[i]
                out_i = self.treq._materialize(out, s.id)
                answers.append(Answer(s, self.reqs[i], out_i, self.hashes[i]))
        return answers


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:80]


def _mc_output(ll: LoglikelihoodOutput, sample: Sample) -> ModelOutput:
    choices = sample.choices or []
    best = max(range(len(ll.logprobs)), key=lambda i: ll.logprobs[i]) if ll.logprobs else 0
    return ModelOutput(
        parts=[TextPart(text=choices[best] if choices else "")],
        choice_logprobs=ll.logprobs,
        choice_greedy=ll.greedy,
    )


def score_answers(
    treq: TaskRequests, answers: list[Answer], scorers: list[Scorer], ctx: ScoreContext
) -> list[SampleRecord]:
    """Score answered samples with every scorer; one record per answer, in order."""
    batch = [a.sample for a in answers]
    outputs = [a.output for a in answers]
    scores: list[dict[str, ScoreRecord]] = [{} for _ in batch]
    for sc in scorers:
        for acc, new in zip(scores, sc.score(batch, outputs, ctx), strict=True):
            acc.update(new)
    return [
        make_record(treq.spec, a.sample, a.request, a.output, sc, a.prompt_hash)
        for a, sc in zip(answers, scores, strict=True)
    ]


def make_record(
    spec: TaskSpec,
    sample: Sample,
    req: Any,
    out: ModelOutput,
    scores: dict[str, ScoreRecord],
    prompt_hash: str | None = None,
) -> SampleRecord:
    consumed = out.consumed_modalities or [m for m in sample.modalities]
    return SampleRecord(
        sample_id=sample.id,
        cluster=cluster_of(spec, sample),
        input_ref=sample.content_hash(),
        input=list(sample.input),
        target=sample.target,
        prompt_hash=req.content_hash() if prompt_hash is None else prompt_hash,
        output=out.parts,
        scores=scores,
        consumed_modalities=consumed,
        usage=out.usage,
        metadata={
            **sample.metadata,
            **({"error": out.error} if out.error else {}),
            **({"input_processing": out.details} if out.details else {}),
            **({"choice_logprobs": out.choice_logprobs} if out.choice_logprobs else {}),
        },
    )
