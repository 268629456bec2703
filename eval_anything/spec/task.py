"""Tasks as data: a YAML spec validated by a frozen pydantic model.

A task is *source + prompt + request type + scorers + metrics*. Python hooks are referenced by
registered name only (loaders, scorers, metrics, aggregators); YAML never names an import path.
YAML is read with PyYAML's safe loader and prompts are rendered in a sandboxed jinja2 environment.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from eval_anything import registry
from eval_anything.core.content import TextPart
from eval_anything.core.requests import GenerationConfig
from eval_anything.core.sample import Sample
from eval_anything.errors import UserError, field_errors


class TaskSpecError(UserError):
    """A task file that cannot be used; the message names the file, the field and the fix."""


class HFSource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    path: str = Field(description="Dataset id on the Hugging Face hub, or a local folder.")
    name: str | None = None
    revision: str | None = Field(default=None, description="Pin a commit for reproducibility.")
    split: str = "test"
    data_files: str | list[str] | dict[str, Any] | None = None


class SourceSpec(BaseModel):
    """Where samples come from: a bundled JSONL file (path relative to the YAML) or HF datasets."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    jsonl: str | None = None
    hf: HFSource | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SourceSpec:
        if (self.jsonl is None) == (self.hf is None):
            raise ValueError("give exactly one of 'jsonl' or 'hf'")
        return self


class ComponentRef(BaseModel):
    """A registered component and its arguments."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class MetricRef(ComponentRef):
    score: str | None = Field(default=None, description="Score name the metric reduces.")


class PromptSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    system: str | None = None
    template: str | None = Field(
        default=None,
        description="jinja2 over `sample`, `text`, `choices`, `metadata`; replaces the text parts.",
    )


class ScaleSpec(BaseModel):
    """The range and direction of a task's (or group's) primary metric. Declared so that no
    table averages unlike scales without saying so (the leaderboard normalizes by this range)
    and the gate knows which way is a regression."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    min: float = Field(description="Lowest value the primary metric can take.")
    max: float = Field(description="Highest value the primary metric can take.")
    higher_is_better: bool = Field(default=True, description="False for losses, error rates.")

    @model_validator(mode="after")
    def _ordered(self) -> ScaleSpec:
        if not self.max > self.min:
            raise ValueError(f"scale.max ({self.max}) must be above scale.min ({self.min})")
        return self

    def normalize(self, value: float) -> float:
        """``value`` mapped onto 0-1 by the declared range, 1 always the best end."""
        unit = (value - self.min) / (self.max - self.min)
        return unit if self.higher_is_better else 1.0 - unit

    def label(self) -> str:
        """``1-10`` or ``0-1 (lower is better)``."""
        text = f"{self.min:g}-{self.max:g}"
        return text if self.higher_is_better else f"{text} (lower is better)"


class TaskSpec(BaseModel):
    """One task. See tasks/*.yaml for examples."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str = Field(description="Unique task name.")
    version: str = "1"
    description: str = ""
    groups: list[str] = Field(default_factory=list, description="Groups this task belongs to.")
    source: SourceSpec
    loader: ComponentRef = ComponentRef(name="sample")
    prompt: PromptSpec = PromptSpec()
    request: Literal["generate", "multiple_choice"] = "generate"
    choice_delimiter: str = Field(
        default=" ", description="Put between the context and each choice (multiple_choice)."
    )
    apply_chat_template: bool = Field(
        default=True, description="multiple_choice: score choices after the chat template."
    )
    generation: dict[str, Any] = Field(default_factory=dict)
    scorers: list[ComponentRef] = Field(min_length=1)
    metrics: list[MetricRef] = Field(default_factory=list)
    primary_metric: str | None = None
    scale: ScaleSpec | None = Field(
        default=None, description="Range and direction of the primary metric (min, max, "
        "higher_is_better); tables refuse to average tasks whose scale is not declared.",
    )
    cluster_key: str | None = Field(
        default=None, description="Metadata field that clusters items (for clustered SE)."
    )
    input_modalities: list[str] = Field(default_factory=lambda: ["text"])
    output_modalities: list[str] = Field(default_factory=lambda: ["text"])
    judges: dict[str, str] = Field(default_factory=dict, description="Default role bindings.")
    file: str | None = Field(default=None, exclude=True, description="Where the spec was read.")

    @property
    def base_dir(self) -> Path:
        return Path(self.file).parent if self.file else Path.cwd()

    def generation_config(self, overrides: dict[str, Any] | None = None) -> GenerationConfig:
        cfg = {**self.generation, **(overrides or {})}
        if "stop" in cfg and isinstance(cfg["stop"], list):
            cfg["stop"] = tuple(cfg["stop"])
        return GenerationConfig(**cfg)

    def spec_hash(self) -> str:
        """sha256 of what is evaluated; ``scale`` describes the result, not the evaluation, so
        declaring it leaves fingerprints (and cached answers) as they were."""
        dumped = self.model_dump(mode="json", exclude={"scale"})
        return hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()


class GroupSpec(BaseModel):
    """A named set of tasks with an aggregation over them."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    group: str
    description: str = ""
    tasks: list[str] = Field(default_factory=list, description="Tasks or groups (may nest).")
    aggregate: ComponentRef = ComponentRef(name="mean")
    scale: ScaleSpec | None = Field(
        default=None, description="Range and direction of the group's first metric."
    )
    file: str | None = Field(default=None, exclude=True)


# libyaml's safe loader when PyYAML was built with it: the same documents, read far faster than
# by the pure-Python loader, and every task file is read at each run's start
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_spec_file(path: Path) -> TaskSpec | GroupSpec:
    """A task or group YAML file, checked: every problem is a :class:`TaskSpecError` naming
    the file (and the field), never a traceback."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise TaskSpecError(
            f"{path}: not UTF-8 text (byte {e.start}: {e.reason}); save the file as UTF-8"
        ) from None
    except OSError as e:
        raise TaskSpecError(f"{path}: cannot read the task file ({e.strerror})") from None
    try:
        raw = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as e:
        raise TaskSpecError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(raw, dict):
        raise TaskSpecError(f"{path}: expected a mapping with 'task:' or 'group:' at the top")
    model: type[TaskSpec] | type[GroupSpec] = GroupSpec if "group" in raw else TaskSpec
    if "task" not in raw and "group" not in raw:
        raise TaskSpecError(f"{path}: missing field 'task' (or 'group' for a group file)")
    try:
        spec = model.model_validate({**raw, "file": str(path)})
    except ValidationError as e:
        raise TaskSpecError(_explain(path, e)) from e
    if isinstance(spec, TaskSpec):
        _check_components(path, spec)
    return spec


_SPEC_HINTS = {
    "extra_forbidden": "unknown field (check the spelling; see tasks/README.md for the fields)"
}


def _explain(path: Path, err: ValidationError) -> str:
    return "\n".join(f"{path}: {line}" for line in field_errors(err, _SPEC_HINTS))


def _check_components(path: Path, spec: TaskSpec) -> None:
    checks = [("loader", spec.loader.name, "loader")]
    checks += [("scorers", s.name, "scorer") for s in spec.scorers]
    checks += [("metrics", m.name, "metric") for m in spec.metrics]
    for field, name, kind in checks:
        try:
            registry.get(kind, name)
        except registry.UnknownComponentError as e:
            raise TaskSpecError(f"{path}: field '{field}': {e}") from None


# ---------------------------------------------------------------- prompt rendering

_JINJA = SandboxedEnvironment(keep_trailing_newline=False, autoescape=False)


@lru_cache(maxsize=256)
def _template(src: str) -> Any:
    return _JINJA.from_string(src)


def render_input(spec: TaskSpec, sample: Sample) -> list[Any]:
    """The sample's input parts with the text replaced by the rendered template.

    Media parts keep their order; the rendered text goes last (after the media), as chat
    templates of multimodal models expect.
    """
    if spec.prompt.template is None:
        return list(sample.input)
    text = _template(spec.prompt.template).render(
        {
            **sample.metadata,
            "sample": sample,
            "text": sample.text,
            "choices": sample.choices or [],
            "metadata": sample.metadata,
            "references": sample.references,
        }
    )
    media = [p for p in sample.input if not isinstance(p, TextPart)]
    return [*media, TextPart(text=text.strip())]


def render_system(spec: TaskSpec, sample: Sample) -> str | None:
    if spec.prompt.system is None:
        return None
    return str(_template(spec.prompt.system).render({**sample.metadata, "sample": sample}))


def fingerprint(spec: TaskSpec, samples: list[Sample]) -> str:
    """sha256 of the spec and every sample's content hash (order-independent in samples)."""
    h = hashlib.sha256(spec.spec_hash().encode())
    for digest in sorted(s.content_hash() for s in samples):
        h.update(digest.encode())
    return h.hexdigest()


def cluster_of(spec: TaskSpec, sample: Sample) -> str | None:
    if sample.cluster is not None:
        return sample.cluster
    if spec.cluster_key:
        v = sample.metadata.get(spec.cluster_key)
        return None if v is None else str(v)
    return None
