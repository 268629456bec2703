"""Train and test kept apart: which evaluation items a training set contains.

An item is flagged when its text equals a training text after normalization, when it shares a
run of ``ngram`` consecutive words with one (an item shorter than that: its whole text), or when
one of its media has the same bytes or decodes to the same content as a training medium.
See docs/training.md ("Train and test kept apart").
"""

from eval_anything.overlap.check import DEFAULT_NGRAM, check_overlap, check_samples
from eval_anything.overlap.report import FlaggedItem, OverlapReport, TaskOverlap, TrainRowRef

__all__ = ["DEFAULT_NGRAM", "FlaggedItem", "OverlapReport", "TaskOverlap", "TrainRowRef",
           "check_overlap", "check_samples"]
