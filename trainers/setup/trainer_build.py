"""From checked inputs to a ready TRL trainer: the steps every built-in algorithm follows.

1. :func:`prepare` checks, writing nothing: precision from the hardware, the training data
   against the auto-score tasks (:mod:`.train_overlap`; overlapping rows dropped when asked), at
   least one example, the tokenizer or processor, and the examples' media against it;
2. :func:`build_trainer` builds the TRL config (an argument TRL refuses names
   ``training.trl``), then makes the run's first writes (:func:`start_run`: the auto-score
   tasks checked, the output folder locked, the training run id kept, ``overlap.json``), then
   loads the model and builds the TRL trainer with the auto-score hook.

An algorithm supplies only what is its own: its examples, its dataset (and collator, for rows
that stay raw until batched), its TRL config and trainer classes, and its arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from eval_anything.errors import ConfigError
from eval_anything.trainers.config import TrainConfig, training_run_id
from eval_anything.trainers.data.trl_datasets import use_chat
from eval_anything.trainers.setup.models import (
    check_media,
    load_policy,
    load_tokenizer,
    peft_config,
    resolve_model_path,
    text_tokenizer,
)
from eval_anything.trainers.setup.output_folder import hold_output_dir
from eval_anything.trainers.setup.precision import Precision, choose_precision
from eval_anything.trainers.setup.trl_arguments import make_config

#: refuses examples the loaded tokenizer or processor cannot take (exit 2, nothing written)
InputCheck = Callable[[TrainConfig, Sequence[Any], Any], None]
#: what an algorithm trains on (``Pair``, ``Completion``, or a kind of its own)
Example = TypeVar("Example")


@dataclass(frozen=True)
class Prepared(Generic[Example]):
    """A run whose inputs were checked, before anything was written."""

    cfg: TrainConfig
    precision: Precision
    processing: Any  # the tokenizer, or the processor of a model that takes media
    examples: list[Example]
    overlap: Any = None  # the TrainingOverlap of the data against the auto-score tasks

    @property
    def tokenizer(self) -> Any:
        return text_tokenizer(self.processing)

    @property
    def with_processor(self) -> bool:
        return self.processing is not self.tokenizer

    @property
    def conversational(self) -> bool:
        """Text rows in TRL's chat form (``data.chat``; 'auto': when the tokenizer has a chat
        template, so training sees the formatting the checkpoint is scored with)."""
        chat = self.cfg.data.chat if self.cfg.data is not None else "auto"
        return use_chat(chat, self.tokenizer)


class BuiltTrainer(NamedTuple):
    """A ready TRL trainer, the precision it trains in and the training run id."""

    trainer: Any
    precision: Precision
    run_id: str


def run_precision(cfg: TrainConfig) -> Precision:
    """Precision from the hardware (nothing written)."""
    try:
        return choose_precision(cfg.training.precision)
    except ValueError as e:
        raise ConfigError(f"{cfg.where()}: {e}") from None


def prepare(
    cfg: TrainConfig, given: list[Example] | None,
    load: Callable[[TrainConfig], list[Example]], empty: str, check: InputCheck = check_media,
) -> Prepared[Example]:
    """Check everything that needs no write, on the ``given`` examples or else those ``load``
    reads from the config's data; ``empty`` says what is missing when there are none
    (``"no preference pairs to train on"``)."""
    precision = run_precision(cfg)
    overlap = None
    if given is None:  # the config's data: checked against the auto-score tasks first
        from eval_anything.trainers.setup.train_overlap import (
            check_training_overlap,
            without_overlap,
        )

        check_autoscore(cfg)  # an unknown task: a config error before the check reads any
        overlap = check_training_overlap(cfg)
        cfg = without_overlap(cfg, overlap)
    elif cfg.data is not None and cfg.data.exclude_overlap:
        raise ConfigError(f"{cfg.where()}: field 'data.exclude_overlap' applies to the rows of "
                          "data.train, not to examples built elsewhere (text-to-image pairs, "
                          "LLF's pairs); drop the field")
    examples = load(cfg) if given is None else given
    if not examples:
        raise ConfigError(f"{cfg.where()}: {empty}")
    processing = load_tokenizer(cfg)
    check(cfg, examples, processing)
    return Prepared(cfg, precision, processing, examples, overlap)


def build_trainer(
    prepared: Prepared[Any], config_class: type, trainer_class: type, args: dict[str, Any],
    dataset: Any, callbacks: list[Any] | None = None, *, collator: Any = None,
    head: str = "causal_lm",
) -> BuiltTrainer:
    """``trainer_class`` over ``dataset``, configured by ``config_class(**args)``, with the
    caller's callbacks and the auto-score hook. With a ``collator`` the rows reach it raw (the
    Trainer keeps every column); ``head="reward"`` trains a one-logit sequence classifier."""
    cfg = prepared.cfg
    if collator is not None:
        args = {**args, "remove_unused_columns": False}
    config = make_config(config_class, cfg, args)
    run_id = start_run(cfg, prepared.overlap)
    hooks = [*(callbacks or []),
             *autoscore_callbacks(cfg, run_id, resolve_model_path(cfg.model.path))]
    extra = {} if collator is None else {"data_collator": collator}
    trainer = trainer_class(
        model=load_policy(cfg, head, prepared.tokenizer),
        args=config,
        train_dataset=dataset,
        processing_class=prepared.processing,
        peft_config=peft_config(cfg, "SEQ_CLS" if head == "reward" else "CAUSAL_LM"),
        callbacks=hooks,
        **extra,
    )
    return BuiltTrainer(trainer, prepared.precision, run_id)


def check_autoscore(cfg: TrainConfig) -> None:
    """The auto-score tasks must exist before training starts: a typo found at the first save
    would leave a trained folder with every checkpoint marked failed."""
    if not cfg.autoscore.tasks:
        return
    from eval_anything.spec.catalog import load_catalog

    try:
        load_catalog(cfg.autoscore.include_paths).expand(cfg.autoscore.tasks)
    except ValueError as e:  # UnknownComponentError and TaskSpecError are user errors
        raise ConfigError(f"{cfg.where()}: field 'autoscore.tasks': {e}") from None


def start_run(cfg: TrainConfig, overlap: Any = None) -> str:
    """Check the auto-score tasks, lock the output folder, then the training run id
    (``training_run.json``) and the overlap report (``overlap.json``, when checked): the first
    writes of a run, after everything was validated."""
    check_autoscore(cfg)
    hold_output_dir(cfg)
    run_id = training_run_id(cfg)
    if overlap is not None:
        from eval_anything.trainers.setup.train_overlap import write_training_overlap

        write_training_overlap(cfg, overlap)
    return run_id


def autoscore_callbacks(cfg: TrainConfig, run_id: str, base_model: str) -> list[Any]:
    """The auto-score hook when ``autoscore.tasks`` is set."""
    if not cfg.autoscore.tasks:
        return []
    from eval_anything.trainers.autoscore.callback import AutoScoreCallback

    return [AutoScoreCallback.from_section(cfg.autoscore, run_id, cfg.output_dir, base_model)]
