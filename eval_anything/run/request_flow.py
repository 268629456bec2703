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
unit: two local models on one device would only contend. Otherwise every stage gets the threads
its flow allows: served requests stay in flight up to their adapter's limit (which the adapter
itself enforces across threads), and the generation of the next items overlaps the judging of
finished ones.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

from eval_anything.core.requests import RequestFlow

S = TypeVar("S")  # a sample
A = TypeVar("A")  # an answered sample
R = TypeVar("R")  # a record of the sample log


@dataclass
class Stages(Generic[S, A, R]):
    """The work of one task. ``answer`` returns one answer per sample, in order; ``score`` one
    record per answer; ``write`` appends records (always called from the caller's thread)."""

    answer: Callable[[list[S]], list[A]]
    score: Callable[[list[A]], list[R]]
    write: Callable[[list[R]], None]


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


def units(items: list[S], flow: RequestFlow) -> list[list[S]]:
    """``items`` cut into the calls ``flow`` asks for."""
    size = len(items) if flow.size is None else flow.size
    size = max(size, 1)
    return [items[i : i + size] for i in range(0, len(items), size)]


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
            stages.write(stages.score(_checked(stages.answer(unit), unit)))
        return
    _Pipeline(generation, scoring, stages).run(samples)


def _checked(answers: list[A], unit: list[Any]) -> list[A]:
    if len(answers) != len(unit):
        raise RuntimeError(f"answer stage returned {len(answers)} answers for {len(unit)} samples")
    return answers


_STOP = object()


class _Pipeline(Generic[S, A, R]):
    """Threads for the served stages; the caller's thread writes.

    Workers report to ``done`` as ``(records, n_samples)`` or ``(exception, 0)``. After the
    first exception no new work starts; work already running finishes, its records are written,
    and the exception is raised in the caller's thread."""

    def __init__(
        self, generation: RequestFlow, scoring: RequestFlow | None, stages: Stages[S, A, R]
    ) -> None:
        self.generation, self.scoring, self.stages = generation, scoring, stages
        self.done: queue.Queue[tuple[Any, int]] = queue.Queue()
        self.stopped = threading.Event()
        self.write_failed = False
        self.answer_pool = ThreadPoolExecutor(generation.in_flight, thread_name_prefix="ea-answer")
        self.score_pool: ThreadPoolExecutor | None = None
        self.local_scores: queue.Queue[Any] = queue.Queue()
        self.local_scorer: threading.Thread | None = None
        if scoring is not None and scoring.is_concurrent:
            self.score_pool = ThreadPoolExecutor(scoring.in_flight, thread_name_prefix="ea-score")
        elif scoring is not None:
            self.local_scorer = threading.Thread(
                target=self._score_locally, name="ea-score", daemon=True
            )

    def run(self, samples: list[S]) -> None:
        if self.local_scorer is not None:
            self.local_scorer.start()
        try:
            for unit in units(samples, self.generation):
                self.answer_pool.submit(self._answer, unit)
            self._collect(len(samples))
        finally:
            self._shut_down()
            if not self.write_failed:
                self._write_finished()  # work that completed while stopping is kept

    def _collect(self, expected: int) -> None:
        written = 0
        while written < expected:
            got = [self.done.get()]
            while True:  # whatever else has completed goes into the same write
                try:
                    got.append(self.done.get_nowait())
                except queue.Empty:
                    break
            records: list[R] = []
            error: BaseException | None = None
            for payload, n in got:
                if isinstance(payload, BaseException):
                    error = error or payload
                else:
                    records.extend(payload)
                    written += n
            if records:
                self._write(records)
            if error is not None:
                raise error

    def _write(self, records: list[R]) -> None:
        try:
            self.stages.write(records)
        except BaseException:
            self.write_failed = True  # a full disk is not tried again while stopping
            raise

    def _shut_down(self) -> None:
        self.stopped.set()
        self.answer_pool.shutdown(wait=True, cancel_futures=True)
        if self.local_scorer is not None:
            self.local_scores.put(_STOP)
            self.local_scorer.join()
        if self.score_pool is not None:
            self.score_pool.shutdown(wait=True, cancel_futures=True)

    def _write_finished(self) -> None:
        records: list[R] = []
        while True:
            try:
                payload, _ = self.done.get_nowait()
            except queue.Empty:
                break
            if not isinstance(payload, BaseException):
                records.extend(payload)
        if records:
            self._write(records)

    # ------------------------------------------------------------------ workers

    def _answer(self, unit: list[S]) -> None:
        if self.stopped.is_set():
            return
        try:
            answers = _checked(self.stages.answer(unit), unit)
            if self.scoring is None:
                self.done.put((self.stages.score(answers), len(answers)))
            elif self.score_pool is not None:
                for a in answers:  # each answer is judged as soon as it exists
                    self.score_pool.submit(self._score, [a])
            else:
                self.local_scores.put(answers)
        except BaseException as e:  # reported to the caller's thread, which raises it
            self.done.put((e, 0))

    def _score(self, answers: list[A]) -> None:
        if self.stopped.is_set():
            return
        try:
            self.done.put((self.stages.score(answers), len(answers)))
        except BaseException as e:
            self.done.put((e, 0))

    def _score_locally(self) -> None:
        """One thread scores for a local judge, in batches of what has been answered so far
        (up to the scoring flow's size)."""
        assert self.scoring is not None
        size = self.scoring.size or 1
        while True:
            first = self.local_scores.get()
            if first is _STOP:
                return
            batch = list(first)
            end = False
            while len(batch) < size:
                try:
                    more = self.local_scores.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    end = True
                    break
                batch.extend(more)
            if not self.stopped.is_set():
                self._score(batch)
            if end:
                return


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
    ``sync_every`` seconds and when the task ends: at one fsync per batch it cost more than the
    rest of our per-item work together (``benchmarks/request_overhead.py``). The file stays open
    from the first append to :meth:`close`: opening it, making its folder and checking its last
    byte on every append was about a tenth of the task's time in a profile at 256 in flight."""

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
