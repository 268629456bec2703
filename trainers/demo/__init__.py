"""``eval-anything demo``: the whole train-and-score loop offline on a CPU.

- :mod:`.loop`: score the base model, train, score every checkpoint, report the paired gain;
- :mod:`.bundled_data`: the demo's held-out preference and feedback rows, and the script that
  writes them into ``tasks/mini/demo/``.
"""
