"""The gate's note on a task whose items either run's training data contained.

A checkpoint scored on items it trained on may measure memory, not skill: the gate says so per
task (``TaskResult.train_overlap``, written by ``train``'s overlap check) and leaves the verdict
as the statistics decided it.
"""

from __future__ import annotations

from eval_anything.core.results import Results

OVERLAP_MARK = "⚠ overlap"


def train_overlap_notes(task: str, baseline: Results, candidate: Results) -> list[str]:
    """One note per run whose training data contained items of ``task``."""
    notes = []
    for side, results in (("baseline", baseline), ("candidate", candidate)):
        result = results.tasks.get(task)
        overlap = None if result is None else result.train_overlap
        if overlap is not None and overlap.flagged:
            notes.append(f"train overlap: {overlap.flagged} of {overlap.n} items appear in the "
                         f"{side}'s training data ({OVERLAP_MARK} {overlap.flagged}/{overlap.n})")
    return notes
