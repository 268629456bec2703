"""Training data, from a file on disk to what a TRL trainer consumes, one step per module:

- :mod:`.row_files`: read a file (JSONL, JSON, Parquet, a ``datasets`` folder) into raw rows,
  each checked to be an object without NaN/Infinity;
- :mod:`.layouts`: the field spellings of the align-anything layouts inside a row: its media
  (checked to exist and decode) and which of two responses is preferred;
- :mod:`.formats`: ``data.format``: tell a row's format apart and turn rows into examples;
- :mod:`.examples`: the examples every algorithm trains on (:class:`~.examples.Pair`,
  :class:`~.examples.Completion`), media kept with them;
- :mod:`.loading`: the examples a config's ``data`` section names (file, format, media root);
- :mod:`.trl_datasets`: text-only examples in TRL's dataset formats;
- :mod:`.processor_collators`: examples with media, batched by the model's own processor;
- :mod:`.image_preferences` and :mod:`.image_token_collator`: text-to-image preference rows
  (a prompt, a preferred and a rejected image) and their batches of image tokens.
"""
