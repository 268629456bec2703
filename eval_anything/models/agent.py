"""``agent``: any-to-any generation by composition, as the paper's AMG agent does it.

A language model (any adapter) answers in sections, writing its text answer plus one instruction
per medium it chooses to add (see :mod:`eval_anything.formats.sections`); generator adapters
render those instructions (``procedural`` offline, ``diffusers`` pipelines where installed). The
output holds the language model's full sectioned text (scorers read the ``response`` section
from it) followed by the rendered media, which the runner stores under the run directory (videos
as the generators write them: MP4, with a sound track when the instruction asks for one).

When the prompt offers exactly one medium and no text answer (an image instruction-following
prompt, say) and the language model ignores the section format, its whole answer is taken as that
medium's instruction. Identical requests in one batch are generated once.

``--model agent --model-args lm=smollm2,image=procedural,audio=procedural,video=procedural``;
``lm.KEY=VALUE`` / ``image.KEY=VALUE`` / ... pass arguments to each part
(``lm=hf,lm.pretrained=DIR``); ``image=none`` switches a medium off.

``image=self`` (``audio=self``, ``video=self``) has the language model render that medium itself,
with the same weights: a model that draws or speaks natively (Janus, Emu3, Qwen-Omni through
``hf``) answers in sections, and each instruction it wrote goes back to it as a request asking
for that medium alone (``output_modalities=(medium,)``), with the decoding settings of the item.
This is how modality selection and synergy run on a native any-to-any model::

    --model agent --model-args lm=hf,lm.pretrained=JANUS_DIR,image=self,audio=none
    --model agent --model-args lm=hf,lm.pretrained=OMNI_DIR,audio=self,image=procedural

A medium set to ``self`` that the language model cannot emit is refused before any request.
"""

from __future__ import annotations

import re
from typing import Any

from eval_anything import registry
from eval_anything.core.content import TextPart, text_of
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest, GenerationConfig
from eval_anything.formats.sections import parse_sections
from eval_anything.models.base import ModelAdapter
from eval_anything.models.build import adapter_class, takes

MEDIA = ("image", "audio", "video")
PROTOCOL = "1"
SELF = "self"  # a generator name: the language model renders the medium itself
_OFFER = {m: re.compile(rf"\[\[\s*{m}[ _]?instruction\s*\]\]", re.IGNORECASE) for m in MEDIA}
_OFFER_TEXT = re.compile(r"\[\[\s*response\s*\]\]", re.IGNORECASE)


def build_part(
    name: str | ModelAdapter, args: dict[str, Any], modality: str | None
) -> ModelAdapter:
    """A registered adapter by name (with ``modality`` passed when it takes one), or as given."""
    if isinstance(name, ModelAdapter):
        return name
    cls = adapter_class(name, where=f"--model-args (agent part {modality or 'lm'})")
    kwargs = dict(args)
    if modality and takes(cls, "modality"):
        kwargs.setdefault("modality", modality)
    return cls(**kwargs)  # type: ignore[no-any-return]


def offered_media(prompt: str) -> tuple[list[str], bool]:
    """Media whose instruction section the prompt asks for, and whether it asks for text."""
    return [m for m in MEDIA if _OFFER[m].search(prompt)], bool(_OFFER_TEXT.search(prompt))


def instructions_from(text: str, prompt: str, available: list[str]) -> dict[str, str]:
    """Medium -> instruction to render, from the language model's answer: the sections it
    wrote, limited to the media the prompt offers (all media when it offers none)."""
    sections = parse_sections(text)
    offered, wants_text = offered_media(prompt)
    if sections.found:
        allowed = [m for m in available if m in offered] if offered else available
        return {m: sections.get(m) or "" for m in allowed if sections.chosen(m)}
    if len(offered) == 1 and not wants_text and offered[0] in available and text.strip():
        return {offered[0]: text.strip()}
    return {}


@registry.register("model", "agent")
class AgentModel(ModelAdapter):
    """A language model plus per-medium generators."""

    output_modalities_note = "text + the media of its generators (image=, audio=, video=)"

    def __init__(
        self,
        lm: str | ModelAdapter = "smollm2",
        image: str | ModelAdapter | None = "procedural",
        audio: str | ModelAdapter | None = "procedural",
        video: str | ModelAdapter | None = "procedural",
        **prefixed: Any,
    ) -> None:
        groups: dict[str, dict[str, Any]] = {k: {} for k in ("lm", *MEDIA)}
        for key, value in prefixed.items():
            head, dot, rest = key.partition(".")
            if not dot or head not in groups:
                raise ValueError(
                    f"--model-args {key}={value!r}: the agent takes lm=, image=, audio=, video= "
                    "and part arguments prefixed with the part (lm.pretrained=DIR, image.steps=4)"
                )
            groups[head][rest] = value
        self.lm = build_part(lm, groups["lm"], None)
        self.generators: dict[str, ModelAdapter] = {}
        for modality, name in (("image", image), ("audio", audio), ("video", video)):
            if name is None or (isinstance(name, str) and name.lower() in ("none", "")):
                continue
            if isinstance(name, str) and name.lower() == SELF:
                self.generators[modality] = self._self_generator(modality, groups[modality])
                continue
            self.generators[modality] = build_part(name, groups[modality], modality)
        self.input_modalities = tuple(self.lm.input_modalities)  # type: ignore[misc]
        self.output_modalities = ("text", *self.generators)  # type: ignore[misc]
        self.lm_calls = 0

    def _self_generator(self, modality: str, args: dict[str, Any]) -> ModelAdapter:
        """The language model as the generator of ``modality`` (it must emit it natively)."""
        if args:
            raise ValueError(
                f"--model-args {modality}.{next(iter(args))}: {modality}=self renders with the "
                "language model; give its settings as lm.KEY=VALUE"
            )
        if modality not in self.lm.output_modalities:
            emits = ", ".join(self.lm.output_modalities)
            raise ValueError(
                f"--model-args {modality}=self: the language model ({self.lm.name}) emits {emits}, "
                f"not {modality}; choose a generator for it (procedural, diffusers, ...) or none"
            )
        return self.lm

    def _is_self(self, generator: ModelAdapter) -> bool:
        return generator is self.lm

    def identity(self) -> dict[str, Any]:
        return {
            "adapter": "agent",
            "name": f"agent({self.lm.name})",
            "protocol": PROTOCOL,
            "lm": self.lm.identity(),
            "generators": {
                m: SELF if self._is_self(g) else g.identity() for m, g in self.generators.items()
            },
        }

    def details(self) -> dict[str, Any]:
        gens = {m: SELF if self._is_self(g) else g.name for m, g in self.generators.items()}
        return {"lm": self.lm.details(), "generators": gens}

    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]:
        keys = [r.content_hash() for r in requests]
        unique: dict[str, GenerateRequest] = {}
        for k, r in zip(keys, requests, strict=True):
            unique.setdefault(k, r)
        order = list(unique)
        self.lm_calls += len(order)
        # the language model writes text (its sections); media come from the generators
        as_text = [unique[k].model_copy(update={"output_modalities": ("text",)}) for k in order]
        lm_out = dict(zip(order, self.lm.generate(as_text), strict=True))
        rendered = self._render(order, unique, lm_out)
        return [rendered[k] for k in keys]

    def _render(
        self, order: list[str], reqs: dict[str, GenerateRequest], lm_out: dict[str, ModelOutput]
    ) -> dict[str, ModelOutput]:
        wanted: dict[str, list[tuple[str, str]]] = {m: [] for m in self.generators}
        for k in order:
            out = lm_out[k]
            if out.error is not None:
                continue
            prompt = text_of(reqs[k].messages[-1].content)
            for m, instr in instructions_from(out.text, prompt, list(self.generators)).items():
                wanted[m].append((k, instr))
        media: dict[str, list[Any]] = {k: [] for k in order}
        errors: dict[str, str] = {}
        rendered: dict[str, dict[str, Any]] = {}
        for m in (m for m in MEDIA if m in self.generators):
            if not wanted[m]:
                continue
            greqs = [
                GenerateRequest.from_parts(
                    [TextPart(text=i)], self._generator_gen(m, reqs[k]), output_modalities=(m,)
                )
                for k, i in wanted[m]
            ]
            for (k, _), g in zip(wanted[m], self.generators[m].generate(greqs), strict=True):
                if g.error is not None:
                    errors[k] = f"{m} generator failed: {g.error}"
                media[k].extend(p for p in g.parts if p.type == m)
                if "generation" in g.details:  # how a native model rendered it (its settings)
                    rendered.setdefault(k, {})[m] = g.details["generation"]
        final: dict[str, ModelOutput] = {}
        for k in order:
            out = lm_out[k]
            if out.error is not None or k in errors:
                final[k] = ModelOutput(error=out.error or errors[k], usage=out.usage)
                continue
            update: dict[str, Any] = {"parts": [*out.parts, *media[k]]}
            if k in rendered:
                update["details"] = {**out.details, "media_generation": rendered[k]}
            final[k] = out.model_copy(update=update)
        return final

    def _generator_gen(self, modality: str, request: GenerateRequest) -> GenerationConfig:
        """A rendering generator takes no decoding settings; the language model rendering its
        own instruction decodes as it did for the item."""
        if self._is_self(self.generators[modality]):
            return request.gen
        return GenerationConfig(max_new_tokens=1, seed=0)

    def close(self) -> None:
        self.lm.close()
        for g in self.generators.values():
            if not self._is_self(g):
                g.close()


def with_generators(adapter: ModelAdapter, generators: dict[str, str]) -> ModelAdapter:
    """``adapter`` itself when it already produces every medium in ``generators``, else an agent
    around it that renders the missing media (for a runner that wants to give a text-only model
    a task with media outputs)."""
    missing = {m: g for m, g in generators.items() if m not in adapter.output_modalities}
    if not missing:
        return adapter
    return AgentModel(lm=adapter, **{m: missing.get(m) for m in MEDIA})
