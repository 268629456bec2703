"""Scoring every checkpoint a trainer writes:

- :mod:`.checkpoint_scoring`: score one checkpoint in a child process, and the ledger of what was
  scored (the part the two entry points share);
- :mod:`.score_worker`: that child process;
- :mod:`.callback`: :class:`~.callback.AutoScoreCallback`, the hook any transformers or TRL
  ``Trainer`` can add;
- :mod:`.watch`: ``eval-anything watch``, for trainers outside Python that only write folders.
"""
