"""Request flow: how one task's samples travel through the model, the judges and the sample log.

Each adapter declares the flow it wants (:class:`~eval_anything.core.requests.RequestFlow`): a
local model takes length-sorted batches of ``--batch-size`` one at a time; a served model keeps
up to ``max_concurrency`` single requests in flight, a new one starting as soon as one finishes
(no batch barrier); vLLM takes large chunks so that its own scheduler batches. A judge declares
the flow of the model behind it. :func:`run_flow` drives the samples through three stages:

1. answer: the adapter, through the response cache, answers a unit of samples;
2. score: the scorers (and their judges) turn the answers into records;
3. write: records are appended to the sample log in the caller's thread as they complete (what
   completed together shares one write), so a kill loses only what was in flight.

When neither the model nor any judge is served, everything runs in the caller's thread, unit by
unit: two local models on one device would only contend. Otherwise
:class:`~eval_anything.run.pipeline.Pipeline` runs it: a served model gets all of a task's
requests at once on its own event loop (``max_concurrency`` in flight, a new one starting as
soon as one finishes, no thread waiting on any), answers are scored and written in the caller's
thread in the groups they arrived in, served judges judge those groups on threads of their own
while generation goes on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

from eval_anything.core.requests import RequestFlow
from eval_anything.run.pipeline import Pipeline, Stages, checked, units

S = TypeVar("S")  # a sample
A = TypeVar("A")  # an answered sample
R = TypeVar("R")  # a record of the sample log


def scoring_flow(judge_flows: Sequence[RequestFlow], batch_size: int) -> RequestFlow | None:
    """How scoring may run, from the flows of the task's judges.

    None when there is no judge: scorers are then pure functions, cheap enough to run where the
    answer arrived. Concurrent when every judge is served (the largest judge limit in threads;
    each judge's adapter still holds its own limit). Otherwise batches of ``batch_size`` on one
    thread, the way a local judge model computes best."""
    if not judge_flows:
        return None
    if all(f.is_concurrent for f in judge_flows):
        return RequestFlow.concurrent(max(f.in_flight for f in judge_flows))
    return RequestFlow.batches(batch_size)


def run_flow(
    samples: list[S],
    generation: RequestFlow,
    scoring: RequestFlow | None,
    stages: Stages[S, A, R],
) -> None:
    """Answer, score and write every sample, shaped by the two flows (see the module doc)."""
    if not samples:
        return
    if not generation.is_concurrent and (scoring is None or not scoring.is_concurrent):
        for unit in units(samples, generation):
            stages.write(stages.score(checked(stages.answer(unit), unit)))
        return
    Pipeline(generation, scoring, stages).run(samples)


# ---------------------------------------------------------------------- one task of a run


def run_task_flow(
    treq: Any,
    samples: list[Any],
    scorers: list[Any],
    ctx: Any,
    log: Path,
    batch_size: int,
    on_written: Callable[[list[Any]], None],
) -> None:
    """Answer (``treq``: :class:`~eval_anything.run.task_requests.TaskRequests`), score and append
    ``samples`` to the sample log ``log`` with the flows of the task's model and judges;
    ``on_written`` sees each group of records once it is on disk (usage, progress)."""
    from eval_anything.run.task_requests import score_answers

    local = RequestFlow.batches(batch_size)
    judge_flows = [
        j.request_flow(batch_size) if hasattr(j, "request_flow") else local
        for j in ctx.judges.values()
    ]

    sample_log = SampleLog(log)

    def write(records: list[Any]) -> None:
        sample_log.append(records)
        on_written(records)

    stages: Stages[Any, Any, Any] = Stages(
        answer=treq.answer,
        score=lambda answers: score_answers(treq, answers, scorers, ctx),
        write=write,
        submit=treq.submit if treq.streams else None,
    )
    generation = treq.adapter.request_flow(batch_size)
    try:
        run_flow(samples, generation, scoring_flow(judge_flows, batch_size), stages)
    finally:
        sample_log.close()


class SampleLog:
    """A task's sample log, appended to as records complete.

    Every append reaches the operating system at once, so a killed process loses nothing
    written. fsync, which only matters if the machine itself goes down, runs at most once per
    ``sync_every`` seconds and when the task ends, never once per batch. The file stays open
    from the first append to :meth:`close`, so an append is one write: the folder is made and
    a torn last line cut once, when the file is opened (docs/benchmarks.md, "The sample log",
    has the figures behind both rules)."""

    def __init__(self, path: Path, sync_every: float = 1.0) -> None:
        self.path, self.sync_every = path, sync_every
        self.synced = time.monotonic()
        self.dirty = False
        self.file: TextIO | None = None

    def append(self, records: list[Any]) -> None:
        from eval_anything.core.results_files import open_sample_log, write_sample_lines

        if self.file is None:
            self.file = open_sample_log(self.path)
        write_sample_lines(self.file, self.path, records, fsync=False)
        self.dirty = True
        if time.monotonic() - self.synced >= self.sync_every:
            self.sync()

    def sync(self) -> None:
        if self.dirty and self.file is not None:
            os.fsync(self.file.fileno())
        self.dirty, self.synced = False, time.monotonic()

    def close(self) -> None:
        """fsync what is not yet synced and close the file (a later append opens it again)."""
        try:
            self.sync()
        finally:
            if self.file is not None:
                self.file.close()
                self.file = None
