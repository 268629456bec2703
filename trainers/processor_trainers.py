"""SFT and DPO for models that take media through a processor, on TRL's own trainers.

The data side is :mod:`eval_anything.trainers.processor_data`; here the media are checked
against the model before anything is written, and TRL's ``SFTTrainer`` / ``DPOTrainer`` get our
collator. TRL's DPO would tokenize the text columns itself (``_prepare_dataset``), which cannot
place media tokens; :class:`ProcessorDPOTrainer` leaves the rows to the collator and changes
nothing else, so TRL's losses, metric names, precomputed reference log-probs, LoRA handling and
callbacks are used as they are.
"""

from __future__ import annotations

from typing import Any

from eval_anything.errors import ConfigError
from eval_anything.trainers.config import TrainConfig
from eval_anything.trainers.data import Completion, Pair


def accepted_modalities(processing: Any) -> tuple[str, ...]:
    """What the model's processor can prepare (``("text",)`` for a tokenizer)."""
    from eval_anything.models.hf_av import accepted_modalities as accepted

    if getattr(processing, "tokenizer", None) is None:
        return ("text",)
    return accepted(processing)


def check_media(cfg: TrainConfig, items: list[Pair] | list[Completion], processing: Any) -> None:
    """Every row's media must reach the model: a modality its processor does not take stops the
    run (exit 2) naming the file, row, field and modality. Never a text-only fallback."""
    accepted = accepted_modalities(processing)
    for item in items:
        for m in item.media:
            if m.modality in accepted:
                continue
            kind = "text-only" if accepted == ("text",) else f"takes only {', '.join(accepted)}"
            raise ConfigError(
                f"{item.source or cfg.where()}: field {m.field!r} holds {m.modality}, but model "
                f"{cfg.model.path!r} is {kind}; train a model whose processor takes {m.modality} "
                f"(e.g. {EXAMPLES[m.modality]}), or remove the field from the data"
            )
    if any(item.media for item in items) and not getattr(processing, "chat_template", None):
        raise ConfigError(
            f"{cfg.where()}: model {cfg.model.path!r}: its processor has no chat template, which "
            "places the media tokens in the prompt; save the processor with one"
        )


EXAMPLES = {
    "image": "LLaVA, Qwen2-VL", "audio": "Qwen2-Audio", "video": "Qwen2-VL, LLaVA-NeXT-Video",
}


def processor_arguments(args: dict[str, Any]) -> dict[str, Any]:
    """The collator reads the raw columns, so the Trainer must not drop them."""
    return {**args, "remove_unused_columns": False}


def _dpo_class() -> type:
    from trl import DPOTrainer

    class ProcessorDPOTrainer(DPOTrainer):  # type: ignore[misc]
        """TRL's DPOTrainer; rows stay raw until :class:`PreferenceCollator` batches them."""

        def _prepare_dataset(self, dataset: Any, *args: Any, **kwargs: Any) -> Any:
            return dataset

    return ProcessorDPOTrainer


def build_processor_dpo(
    cfg: TrainConfig, pairs: list[Pair], processing: Any, config: Any, model: Any,
    callbacks: list[Any],
) -> Any:
    from eval_anything.trainers.common import peft_config
    from eval_anything.trainers.processor_data import PreferenceCollator, pairs_media_dataset

    return _dpo_class()(
        model=model,
        args=config,
        train_dataset=pairs_media_dataset(pairs),
        data_collator=PreferenceCollator(processing, cfg.training.max_length),
        processing_class=processing,
        peft_config=peft_config(cfg),
        callbacks=callbacks,
    )


def build_processor_sft(
    cfg: TrainConfig, items: list[Completion], processing: Any, config: Any, model: Any,
    callbacks: list[Any],
) -> Any:
    from trl import SFTTrainer

    from eval_anything.trainers.common import peft_config
    from eval_anything.trainers.processor_data import (
        CompletionCollator,
        completions_media_dataset,
    )

    return SFTTrainer(
        model=model,
        args=config,
        train_dataset=completions_media_dataset(items),
        data_collator=CompletionCollator(processing, cfg.training.max_length),
        processing_class=processing,
        peft_config=peft_config(cfg),
        callbacks=callbacks,
    )
