"""``train dpo`` on text-to-image preferences: a model that draws (Janus, Janus-Pro) learns to
prefer one image over another for the same prompt.

Selected by the data, not by a flag: rows in a text-to-image layout (``data.format``
``align_anything_t2i`` or ``pick_a_pic``, or ``auto`` finding ``better_image``/``worse_image``
or ``jpg_0``/``jpg_1`` on the first row; :mod:`eval_anything.trainers.data.image_preferences`)
take this path, which :mod:`.dpo` assembles from the pieces here: the input check
(:func:`check_draws`: such rows with a model that cannot draw through a generation head stop
the run, exit 2, before anything is written) and the trainer class (:func:`image_dpo_class`).

The images become the model's own image tokens (its VQ encoder), and the preference is learned
on those token sequences: their log-probability given the prompt in image-generation mode
(:mod:`.image_token_logprobs`). Everything else is the DPO every other row goes through
(:func:`eval_anything.trainers.algorithms.dpo.build_dpo_on`): TRL's trainer, its losses and metric
names (``rewards/chosen``, ``rewards/margins``, ``rewards/accuracies``), precision from the
hardware, LoRA, precomputed reference log-probs and the auto-score hook. A checkpoint is a
complete Janus folder (or a LoRA adapter on it) that the ``hf`` adapter loads and draws with.

The VQ model is frozen (as Janus trains it): training leaves the image decoder, and so what a
token sequence looks like, unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from eval_anything.errors import ConfigError
from eval_anything.trainers.algorithms.image_token_logprobs import (
    route_image_tokens,
    vq_image_tokens,
)
from eval_anything.trainers.config import TrainConfig
from eval_anything.trainers.data.image_preferences import ImagePair
from eval_anything.trainers.data.image_token_collator import (
    ImageTokenCollator,
    prompt_token_count,
)
from eval_anything.trainers.setup.models import resolve_model_path

#: model types whose image generation :mod:`.image_token_logprobs` scores
DRAWING_MODEL_TYPES = ("janus",)


def check_draws(cfg: TrainConfig, pairs: Sequence[ImagePair], processing: Any) -> None:
    """The model must draw through a generation head, with its processor; a prompt that leaves
    no room for the image under an explicit ``training.max_length`` is refused with its row."""
    import transformers

    path = resolve_model_path(cfg.model.path)
    config = transformers.AutoConfig.from_pretrained(
        path, trust_remote_code=cfg.model.trust_remote_code)
    where = pairs[0].source or cfg.where()
    if config.model_type not in DRAWING_MODEL_TYPES:
        name = (config.architectures or [config.model_type])[0]
        why = ("draws with image tokens inside its text vocabulary, which this trainer does not "
               "score" if config.model_type == "emu3" else "cannot draw")
        raise ConfigError(
            f"{where}: text-to-image preference rows (a prompt with a preferred and a rejected "
            f"image) need a model that draws, but model {cfg.model.path!r} ({name}) {why}; "
            "train a Janus-style model (Janus, Janus-Pro), or give text preference rows"
        )
    if getattr(processing, "image_processor", None) is None:
        raise ConfigError(
            f"{cfg.model.path}: no image processor was saved with the model; it turns the "
            "preferred and rejected images into pixels for the model's image tokens"
        )
    limit = cfg.training.max_length
    if limit is None or "max_length" not in cfg.training.model_fields_set:
        return  # the image is never cut; only an explicit limit is checked
    n_image = int(config.vision_config.num_image_tokens)
    for pair in pairs:
        total = prompt_token_count(processing, pair.prompt) + n_image
        if total > limit:
            raise ConfigError(
                f"{pair.source}: field 'prompt' and its {n_image} image tokens make {total} "
                f"tokens, over training.max_length={limit}; raise it or set it to null (an "
                "image is never truncated)"
            )


def image_dpo_class(raw_rows_trainer: type) -> type:
    """``raw_rows_trainer`` (:func:`.dpo.raw_rows_dpo_class`) with the image tokens' log-probs:
    the collator gets the model's VQ encoder, the VQ model is frozen, and the policy (and a
    reference model, when TRL keeps one) score batches through
    :func:`.image_token_logprobs.route_image_tokens`. Routing is checked before each log-prob
    computation: TRL installs its own head, and may precompute reference log-probs, inside its
    ``__init__``."""
    from accelerate.utils import is_peft_model

    class ImageTokenDPOTrainer(raw_rows_trainer):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, model: Any, data_collator: ImageTokenCollator,
                     **kwargs: Any) -> None:
            model.model.vqmodel.requires_grad_(False)
            data_collator.bind(functools.partial(vq_image_tokens, model))
            super().__init__(*args, model=model, data_collator=data_collator, **kwargs)
            self._route_image_tokens()

        def _route_image_tokens(self) -> None:
            policy = self.accelerator.unwrap_model(self.model)
            route_image_tokens(policy.get_base_model() if is_peft_model(policy) else policy)
            if getattr(self, "ref_model", None) is not None:
                route_image_tokens(self.accelerator.unwrap_model(self.ref_model))

        def compute_ref_log_probs(self, model: Any, inputs: Any) -> Any:
            self._route_image_tokens()
            return super().compute_ref_log_probs(model, inputs)

        def _compute_loss(self, model: Any, inputs: Any, return_outputs: bool) -> Any:
            self._route_image_tokens()
            return super()._compute_loss(model, inputs, return_outputs)

    return ImageTokenDPOTrainer
