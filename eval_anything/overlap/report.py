"""The overlap report: which evaluation items a training set shares, and with which rows.

A pydantic model so it can be written beside a training run and inside results (item 2 of the
design's train-test check), and read back unchanged. ``to_summary()`` is the JSON the CLI prints
(``{"tasks": {TASK: {"n", "flagged": [{"sample_id", "reason", "train_rows"}]}}}``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: why an item is flagged, strongest first (an item flagged for several reasons shows the first)
Reason = Literal["same_text", "shared_word_run", "same_media_bytes", "same_media_content"]
REASON_ORDER: tuple[str, ...] = ("same_text", "shared_word_run", "same_media_bytes",
                                 "same_media_content")
#: training rows named per flagged item; the count beyond it is kept in ``n_train_rows``
MAX_ROWS_PER_ITEM = 20


class TrainRowRef(BaseModel):
    """One training row an item overlaps."""

    model_config = ConfigDict(frozen=True)

    file: str = Field(description="The training file or folder, as given.")
    row: int = Field(description="0-based row number within that file.")
    reason: Reason = Field(description="What this row shares with the item.")


class FlaggedItem(BaseModel):
    """An evaluation item that overlaps the training data."""

    sample_id: str = Field(description="The item's sample id in its task.")
    reason: Reason = Field(description="The strongest reason over all its training rows.")
    train_rows: list[TrainRowRef] = Field(
        description=f"The training rows it overlaps (the first {MAX_ROWS_PER_ITEM}).")
    n_train_rows: int = Field(description="How many training rows it overlaps in all.")


class TaskOverlap(BaseModel):
    """One task: its size and its flagged items (in the task's order)."""

    n: int = Field(description="Items in the task (as loaded, after any limit).")
    flagged: list[FlaggedItem] = Field(default_factory=list, description="Overlapping items.")

    @property
    def share(self) -> float:
        return len(self.flagged) / self.n if self.n else 0.0


class OverlapReport(BaseModel):
    """Training data checked against tasks: the rules applied and what they flagged."""

    ngram: int = Field(description="Length of the shared word run that flags an item.")
    train_files: list[str] = Field(description="The training files and folders read.")
    train_rows: int = Field(description="Training rows read.")
    tasks: dict[str, TaskOverlap] = Field(description="Per task, in the order asked.")

    @property
    def n_flagged(self) -> int:
        return sum(len(t.flagged) for t in self.tasks.values())

    def ranked(self) -> list[tuple[str, TaskOverlap]]:
        """Tasks by the share of items flagged, largest first (ties in the order asked)."""
        return sorted(self.tasks.items(), key=lambda kv: -kv[1].share)

    def flagged_ids(self, task: str) -> set[str]:
        return {f.sample_id for f in self.tasks[task].flagged}

    def to_summary(self) -> dict[str, Any]:
        """The CLI's ``--json`` shape (plus the settings, under ``ngram`` and ``train_rows``)."""
        return {
            "ngram": self.ngram,
            "train_rows": self.train_rows,
            "tasks": {
                name: {"n": t.n, "flagged": [f.model_dump(mode="json") for f in t.flagged]}
                for name, t in self.tasks.items()
            },
        }
