"""The built-in algorithms, one module each; each turns its examples into a dataset and picks
its TRL trainer, and leaves the rest to :mod:`eval_anything.trainers.setup`:

- :mod:`.sft`: supervised fine-tuning (TRL's ``SFTTrainer``);
- :mod:`.dpo`: direct preference optimization (TRL's ``DPOTrainer`` and its loss variants);
  on text-to-image preferences, a model that draws learns on its image tokens
  (:mod:`.dpo_text_to_image`, with their log-probs in :mod:`.image_token_logprobs`);
- :mod:`.rm`: a reward model (TRL's ``RewardTrainer``);
- :mod:`.critic`: SFT of a feedback model on critiques, for LLF;
- :mod:`.llf`: learning from language feedback (sample, critique, refine, then DPO), with the
  files of its stages in :mod:`.llf_files`.
"""
