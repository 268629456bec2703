"""An LLM judge over any model adapter: the paper's judging templates, strict verdict parsing,
bounded retries, cached judgments, and a position-swapped pairwise mode.

Bindings (``--judge ROLE=BINDING``); everything after the kind is ``[model][,key=value...]``:

- ``smollm2`` the bundled SmolLM2-135M-Instruct (offline; a weak judge, fine for demos)
- ``hf:DIR`` or ``hf:pretrained=DIR,dtype=float32`` any transformers checkpoint
- ``openai:MODEL`` or ``openai:MODEL,base_url=http://host:8000/v1`` an OpenAI-compatible server
- ``scripted:FILE.json`` a scripted model (tests, demos)
- ``model:ADAPTER[:ARGS]`` any registered model adapter with ``--model-args``-style ARGS

Judge options, accepted in any of them: ``max_new_tokens`` (default 256), ``attempts`` (tries
per item, default 3) and ``retry_temperature`` (default 0.7; the first try is greedy, retries
sample with seeds 1, 2, ... so a malformed verdict is not simply repeated), ``temperature``
(default 0: greedy) and ``seed`` (default 0) for a sampling judge (with ``temperature`` above 0
every try samples, try ``a`` with seed ``1000 * seed + a``: ``--judge-repeats K`` asks it with
seeds 0 .. K-1, each a request of its own in the judgment cache), and ``mode``:

- ``generate`` (default): the judge writes an explanation and a verdict; strict parsing, the last
  verdict counts, no verdict is unscored (after the retries);
- ``likelihood``: the judge's log-likelihood of every possible verdict (``Rating: [[1]]`` ...
  ``Rating: [[10]]``, ``[[A]]`` ... for options and preferences) is computed after the prompt;
  a rating is the probability-weighted mean of the scale, a choice the most likely one. No
  verdict is ever missing, which makes tiny local judges (SmolLM2-135M rarely writes a verdict
  of its own) usable offline; it needs an adapter with log-likelihoods (hf, smollm2, scripted).
"""

from __future__ import annotations

from typing import Any

from eval_anything import registry
from eval_anything.core.content import TextPart
from eval_anything.core.requests import GenerateRequest, GenerationConfig, Message, RequestFlow
from eval_anything.errors import ConfigError
from eval_anything.judges import templates as T
from eval_anything.judges.base import Judge, JudgeItem, Judgment, unsupported
from eval_anything.judges.parsing import parse_choice_letter, parse_preference, parse_rating
from eval_anything.model_args import parse_binding_args, typed_model_args
from eval_anything.models.base import ModelAdapter
from eval_anything.models.build import build_adapter
from eval_anything.run.cache import ResponseCache, make_key
from eval_anything.scoring.tifa import score_choice, split_choices, tifa_answer

JUDGE_OPTIONS = ("max_new_tokens", "attempts", "retry_temperature", "mode", "temperature", "seed")
SEED_STRIDE = 1000  # tries per repeat that can never collide with the next repeat's seeds
MODES = ("generate", "likelihood")
_RANGES = {"amu": (1, 10), "text_if": (1, 10), "image_if": (0, 10), "synergy": (1, 10)}


class LLMJudge(Judge):
    """Judges by prompting a model. Media items need a model that takes that medium."""

    kinds = ("amu", "text_if", "image_if", "tifa", "synergy", "pairwise")

    def __init__(
        self,
        adapter: ModelAdapter,
        binding: str,
        cache: ResponseCache | None = None,
        max_new_tokens: int = 256,
        attempts: int = 3,
        retry_temperature: float = 0.7,
        mode: str = "generate",
        temperature: float = 0.0,
        seed: int = 0,
    ) -> None:
        if attempts < 1:
            raise ConfigError(f"--judge {binding}: attempts must be >= 1")
        if mode not in MODES:
            raise ConfigError(f"--judge {binding}: mode={mode!r}; choose {' or '.join(MODES)}")
        if mode == "likelihood" and not adapter.supports_loglikelihood:
            raise ConfigError(
                f"--judge {binding}: mode=likelihood needs a model adapter with log-likelihoods "
                f"(hf, smollm2, scripted); {type(adapter).__name__} has none"
            )
        self.mode = mode
        self.adapter = adapter
        self.binding = binding
        self.cache = cache
        self.max_new_tokens = int(max_new_tokens)
        self.attempts = int(attempts)
        self.retry_temperature = float(retry_temperature)
        self.temperature = float(temperature)
        self.seed = int(seed)
        if self.temperature < 0:
            raise ConfigError(f"--judge {binding}: temperature must be 0 or more")
        self.calls = 0

    def reseeded(self, seed: int) -> LLMJudge | None:
        """A copy sampling with ``seed`` (same model); None when this judge is greedy, or
        rates by likelihood (no sampling there)."""
        if self.temperature <= 0 or self.mode == "likelihood":
            return None
        copy = LLMJudge.__new__(LLMJudge)
        copy.__dict__.update(self.__dict__)
        copy.seed = seed
        return copy

    def identity(self) -> str:
        return f"llm:{self.binding}:{self.adapter.identity_hash()[:16]}"

    @property
    def _ll(self) -> Any:
        from eval_anything.judges.llm_likelihood import LikelihoodVerdicts

        return LikelihoodVerdicts(self)

    def template_hash(self) -> str:
        return T.templates_hash()

    def request_flow(self, batch_size: int) -> RequestFlow:
        """The flow of the model behind the judge: a served judge is called from several
        threads (its adapter keeps its own concurrency limit across them), a local one gets
        batches. Likelihood mode always batches (it needs a local model)."""
        if self.mode == "likelihood":
            return RequestFlow.batches(batch_size)
        return self.adapter.request_flow(batch_size)

    def supports(self, kind: str) -> bool:
        seen = set(self.adapter.input_modalities)
        if kind == "image_if":
            return "image" in seen
        if kind == "tifa":
            return bool({"audio", "video"} & seen)
        return kind in self.kinds

    # ------------------------------------------------------------------ requests

    def request(self, item: JudgeItem, attempt: int = 0, swap: bool = False) -> GenerateRequest:
        system, user = self._render(item, swap)
        media = [p for p in item.media if item.kind in ("image_if", "tifa", "pairwise")]
        if self.temperature > 0:  # a sampling judge: every try samples, seeded per repeat
            gen = GenerationConfig(max_new_tokens=self.max_new_tokens,
                                   temperature=self.temperature,
                                   seed=SEED_STRIDE * self.seed + attempt)
        else:
            greedy = attempt == 0
            gen = GenerationConfig(
                max_new_tokens=self.max_new_tokens,
                temperature=0.0 if greedy else self.retry_temperature,
                seed=None if greedy else attempt,
            )
        msgs = [
            Message(role="system", content=[TextPart(text=system)]),
            Message(role="user", content=[*media, TextPart(text=user)]),
        ]
        return GenerateRequest(messages=msgs, gen=gen)

    def _render(self, item: JudgeItem, swap: bool) -> tuple[str, str]:
        k, m = item.kind, item.metadata
        if k == "amu":
            dim = str(m.get("evaluation_dimension", "default"))
            system = T.AMU_SYSTEM.get(dim, T.AMU_SYSTEM["default"])
            refs = T.format_references(item.references)
            return system, T.AMU_USER.format(
                question=item.prompt, references=refs, response=item.response
            )
        if k == "text_if":
            user = T.TEXT_IF_USER.format(prompt=item.prompt, response=item.response)
            return T.TEXT_IF_SYSTEM, user
        if k == "image_if":
            return T.IMAGE_IF_SYSTEM, T.IMAGE_IF_USER.format(prompt=item.prompt)
        if k == "tifa":
            medium = item.media[0].type if item.media else "media"
            return T.TIFA_SYSTEM.format(medium=medium), T.TIFA_USER.format(
                question=m.get("question", ""), choices=T.format_choices(m.get("choices"))
            )
        if k == "synergy":
            first, second = m.get("first_title", "text"), m.get("second_title", "image")
            user = T.SYNERGY_USER.format(
                prompt=item.prompt, first_title=first.capitalize(),
                second_title=second.capitalize(), first=m.get("first", ""),
                second=m.get("second", ""),
            )
            return T.SYNERGY_SYSTEM.format(first=first, second=second), user
        if k == "pairwise":
            a, b = item.response, str(m.get("response_b", ""))
            if swap:
                a, b = b, a
            return T.PAIRWISE_SYSTEM, T.PAIRWISE_USER.format(prompt=item.prompt, a=a, b=b)
        raise ValueError(f"unknown judge item kind {k!r}")

    # ------------------------------------------------------------------ judging

    def judge(self, items: list[JudgeItem]) -> list[Judgment]:
        results: list[Judgment | None] = [None] * len(items)
        plain = [
            i for i, it in enumerate(items) if it.kind != "pairwise" and self.supports(it.kind)
        ]
        for i, it in enumerate(items):
            if not self.supports(it.kind):
                results[i] = unsupported(self, it)
        judged = self._judge_with_retries([items[i] for i in plain], False)
        for i, j in zip(plain, judged, strict=True):
            results[i] = j
        pairs = [i for i, it in enumerate(items) if it.kind == "pairwise"]
        if pairs:
            for i, j in zip(pairs, self.compare([items[i] for i in pairs]), strict=True):
                results[i] = j
        return [r for r in results if r is not None]

    def compare(self, items: list[JudgeItem]) -> list[Judgment]:
        """Pairwise preference, asked in both orders. Both orders prefer the same response:
        1.0 (first) or 0.0 (second); a tie or a disagreement between orders: 0.5."""
        ab = self._judge_with_retries(items, swap=False)
        ba = self._judge_with_retries(items, swap=True)
        out = []
        for x, y in zip(ab, ba, strict=True):
            raw = f"[order A/B]\n{x.raw}\n[order B/A]\n{y.raw}"
            if x.value is None or y.value is None:
                reason = x.reason if x.value is None else y.reason
                out.append(Judgment(None, raw=raw, prompt_hash=x.prompt_hash, reason=reason))
                continue
            first_ab, first_ba = x.value, 1.0 - y.value  # y judged the swapped order
            value = first_ab if first_ab == first_ba else 0.5
            out.append(
                Judgment(value, raw=raw, prompt_hash=x.prompt_hash,
                         details={"order_ab": x.details.get("verdict"),
                                  "order_ba": y.details.get("verdict")})
            )
        return out

    def _judge_with_retries(self, items: list[JudgeItem], swap: bool) -> list[Judgment]:
        if self.mode == "likelihood":
            return self._ll.run(items, swap)
        results: list[Judgment | None] = [None] * len(items)
        raws: list[list[str]] = [[] for _ in items]
        pending = list(range(len(items)))
        first = [self.request(it, 0, swap) for it in items]  # built and hashed once
        first_hash = [r.content_hash() for r in first]
        last_reason: dict[int, str] = {}
        for attempt in range(self.attempts):
            if not pending:
                break
            if attempt == 0:
                texts = self._generate(first, first_hash)
            else:
                reqs = [self.request(items[i], attempt, swap) for i in pending]
                texts = self._generate(reqs, [r.content_hash() for r in reqs])
            still = []
            for i, (text, error) in zip(pending, texts, strict=True):
                raws[i].append(text if error is None else f"<error: {error}>")
                j = self._parse(items[i], text) if error is None else None
                if j is None or not j.has_verdict:
                    last_reason[i] = (j.reason if j else f"judge model error: {error}") or ""
                    still.append(i)
                else:
                    j.raw, j.prompt_hash = text, first_hash[i]
                    j.details["attempts"] = attempt + 1
                    results[i] = j
            pending = still
        for i in pending:
            results[i] = Judgment(
                None, raw="\n---\n".join(raws[i]), prompt_hash=first_hash[i],
                reason=f"{last_reason.get(i, 'no verdict')} (after {self.attempts} attempts)",
                details={"attempts": self.attempts},
            )
        return [r for r in results if r is not None]

    def _parse(self, item: JudgeItem, text: str) -> Judgment:
        if item.kind == "pairwise":
            verdict, reason = parse_preference(text)
            value = {"A": 1.0, "B": 0.0, "C": 0.5}.get(verdict or "")
            return Judgment(value, reason=reason, details={"verdict": verdict})
        if item.kind == "tifa":
            n = len(split_choices(item.metadata.get("choices"))) or 4
            letter, reason = parse_choice_letter(text, n)
            if letter is None:
                return Judgment(None, reason=reason)
            judged = Judgment(None, choice=letter,
                              details={"predicted": letter, "answer": tifa_answer(item)})
            return score_choice(judged, item)
        low, high = _RANGES[item.kind]
        value, reason = parse_rating(text, low, high)
        return Judgment(value, reason=reason, out_of=float(high))

    def _generate(
        self, reqs: list[GenerateRequest], hashes: list[str]
    ) -> list[tuple[str, str | None]]:
        """Answers through the judgment cache (``hashes``: each request's content hash); failed
        calls are not cached."""
        ident = self.adapter.identity_hash()
        keys = [make_key("judgment", ident, h) for h in hashes]
        got: list[tuple[str, str | None] | None] = []
        for k in keys:
            hit = self.cache.get(k) if self.cache is not None else None
            got.append(None if hit is None else (hit, None))
        miss = [i for i, g in enumerate(got) if g is None]
        if miss:
            self.calls += len(miss)
            outs = self.adapter.generate([reqs[i] for i in miss])
            rows = []
            for i, o in zip(miss, outs, strict=True):
                got[i] = (o.text, o.error)
                if o.error is None:
                    rows.append((keys[i], "judgment", o.text))
            if self.cache is not None:
                self.cache.put_many(rows)
        return [g for g in got if g is not None]

    def close(self) -> None:
        self.adapter.close()


# ---------------------------------------------------------------------- bindings


def split_binding_args(
    arg: str | None, positional: str | None, binding: str = ""
) -> tuple[dict[str, str], dict[str, Any]]:
    """``'gpt-4o,base_url=http://x/v1,attempts=2'`` -> (adapter args as typed, judge options
    typed); a first item without ``=`` is the ``positional`` argument (model name or path)."""
    where = f"--judge {binding}" if binding else "--judge"
    head, args = parse_binding_args(arg, where)
    if head is not None:
        if positional is None or positional in args:
            raise ConfigError(f"{where}: {head!r} is not key=value")
        args = {positional: head, **args}
    raw_opts = {k: args.pop(k) for k in list(args) if k in JUDGE_OPTIONS}
    return args, typed_model_args(LLMJudge, raw_opts, flag=where)


def llm_judge(adapter_name: str, adapter_args: dict[str, str], options: dict[str, Any],
              binding: str, cache: ResponseCache | None) -> LLMJudge:
    adapter = build_adapter(adapter_name, {}, where=f"--judge {binding}", text_args=adapter_args)
    return LLMJudge(adapter, binding, cache=cache, **options)


def _binding(kind: str, arg: str | None) -> str:
    return kind if arg is None else f"{kind}:{arg}"


@registry.register("judge", "smollm2")
def smollm2_judge(arg: str | None, cache: ResponseCache | None = None) -> LLMJudge:
    """The bundled SmolLM2-135M-Instruct as an LLM judge (offline; weak: use mode=likelihood)."""
    args, opts = split_binding_args(arg, None, _binding("smollm2", arg))
    return llm_judge("smollm2", args, opts, _binding("smollm2", arg), cache)


@registry.register("judge", "hf")
def hf_judge(arg: str | None, cache: ResponseCache | None = None) -> LLMJudge:
    """An LLM judge on a transformers checkpoint (``hf:DIR`` or ``hf:pretrained=DIR,...``)."""
    args, opts = split_binding_args(arg, "pretrained", _binding("hf", arg))
    if "pretrained" not in args:
        raise ConfigError(
            "--judge ROLE=hf:DIR: give the model folder or hub id, e.g. hf:/models/judge"
        )
    return llm_judge("hf", args, opts, _binding("hf", arg), cache)


@registry.register("judge", "openai")
def openai_judge(arg: str | None, cache: ResponseCache | None = None) -> LLMJudge:
    """An LLM judge on an OpenAI-compatible server: ``openai:MODEL[,base_url=URL]``."""
    args, opts = split_binding_args(arg, "model", _binding("openai", arg))
    if "model" not in args:
        raise ConfigError("--judge ROLE=openai:MODEL[,base_url=URL]: give the model name")
    return llm_judge("openai", args, opts, _binding("openai", arg), cache)


@registry.register("judge", "scripted")
def scripted_judge(arg: str | None, cache: ResponseCache | None = None) -> LLMJudge:
    """An LLM judge replaying scripted answers: ``scripted:FILE.json`` (tests, demos)."""
    args, opts = split_binding_args(arg, "script", _binding("scripted", arg))
    return llm_judge("scripted", args, opts, _binding("scripted", arg), cache)


@registry.register("judge", "model")
def model_judge(arg: str | None, cache: ResponseCache | None = None) -> LLMJudge:
    """An LLM judge on any model adapter: ``model:ADAPTER[:ARGS]``."""
    if not arg:
        raise ConfigError(
            "--judge ROLE=model:ADAPTER[:ARGS]: name a model adapter, e.g. "
            "model:hf:pretrained=DIR"
        )
    name, _, rest = arg.partition(":")
    args, opts = split_binding_args(rest or None, None, f"model:{arg}")
    return llm_judge(name, args, opts, f"model:{arg}", cache)
