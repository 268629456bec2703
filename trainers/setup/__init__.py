"""What every built-in algorithm shares around TRL, decided once:

- :mod:`.precision`: precision from the hardware, never TRL's bf16 default;
- :mod:`.models`: the model, tokenizer or processor, LoRA, and the media a processor takes;
- :mod:`.trl_arguments`: TRL's config arguments from the YAML;
- :mod:`.output_folder`: one writer per training output folder;
- :mod:`.trainer_build`: from checked inputs to a ready TRL trainer (the steps every algorithm
  follows: check, then lock and write, then build);
- :mod:`.trainer_run`: train, resume, keep the final checkpoint, report the outcome;
- :mod:`.cpu_lm_head`: full logits for DPO's log-probs on a CPU.
"""
