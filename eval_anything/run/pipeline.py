"""The concurrent form of a task's request flow (``eval_anything/run/request_flow.py``): served
requests in flight up to their adapter's limit, served judging beside them, and every write in
the caller's thread.

Everything reports to one queue that the caller's thread drains: answers (from the model's
event loop, or from answer threads), records (from judging threads) and exceptions. What has
arrived together is handled together: one ``finish`` of the arrived answers, one scoring call
when scoring needs no judge, one append to the sample log. After the first exception no new
work starts; work already running finishes, its records are written, and the exception is
raised in the caller's thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from eval_anything.core.requests import RequestFlow

S = TypeVar("S")
A = TypeVar("A")
R = TypeVar("R")

_ANSWERED = 0  # (index, output) of one streamed request, from the model's event loop
_ANSWERS = 1  # answered samples, from an answer thread
_RECORDS = 2  # (records, samples they cover), from a judging thread
_ERROR = 3  # an exception from any stage
_STOP = object()


@dataclass
class Stages(Generic[S, A, R]):
    """The work of one task. ``answer`` returns one answer per sample, in order; ``score`` one
    record per answer; ``write`` appends records (always called from the caller's thread)."""

    answer: Callable[[list[S]], list[A]]
    score: Callable[[list[A]], list[R]]
    write: Callable[[list[R]], None]
    # a model that streams (a served one): all samples sent at once, answers handed back as
    # they arrive (``TaskRequests.submit``); used instead of ``answer`` by a concurrent flow
    submit: Callable[[list[S]], Any] | None = None


def units(items: list[S], flow: RequestFlow) -> list[list[S]]:
    """``items`` cut into the calls ``flow`` asks for."""
    size = len(items) if flow.size is None else flow.size
    size = max(size, 1)
    return [items[i : i + size] for i in range(0, len(items), size)]


def checked(answers: list[Any], unit: list[Any]) -> list[Any]:
    if len(answers) != len(unit):
        raise RuntimeError(f"answer stage returned {len(answers)} answers for {len(unit)} samples")
    return answers


class Pipeline(Generic[S, A, R]):
    """One task's samples through a concurrent generation flow (see the module doc).

    With ``stages.submit`` (a model that streams: ``TaskRequests.submit``) every request goes
    to the model's event loop at once and no thread waits on a request; otherwise each sample
    is one ``stages.answer`` call on a pool of ``generation.in_flight`` threads."""

    def __init__(
        self, generation: RequestFlow, scoring: RequestFlow | None, stages: Stages[S, A, R]
    ) -> None:
        self.generation, self.scoring, self.stages = generation, scoring, stages
        self.events: queue.SimpleQueue[tuple[int, Any]] = queue.SimpleQueue()
        self.stopped = threading.Event()
        self.write_failed = False
        self.flight: Any = None  # the streamed requests' handle (cancel() on the way out)
        self.submission: Any = None
        self.answer_pool: ThreadPoolExecutor | None = None
        self.score_pool: ThreadPoolExecutor | None = None
        self.local_scores: queue.SimpleQueue[Any] = queue.SimpleQueue()
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
            if self.stages.submit is not None:
                self.submission = self.stages.submit(samples)
                if self.submission.ready:
                    self.events.put((_ANSWERS, self.submission.ready))
                self.flight = self.submission.start(self._deliver)
            else:
                self.answer_pool = ThreadPoolExecutor(
                    self.generation.in_flight, thread_name_prefix="ea-answer"
                )
                for unit in units(samples, self.generation):
                    self.answer_pool.submit(self._answer, unit)
            self._collect(len(samples))
        finally:
            self._shut_down()
            if not self.write_failed:
                self._write_finished()  # work that completed while stopping is kept

    def _deliver(self, index: int, output: Any) -> None:
        """Called on the model's event loop: must not block, so it only enqueues."""
        self.events.put((_ANSWERED, (index, output)))

    # ------------------------------------------------------------------ the caller's thread

    def _collect(self, expected: int) -> None:
        written = 0
        while written < expected:
            got = [self.events.get()]
            while True:  # whatever else has completed is handled together
                try:
                    got.append(self.events.get_nowait())
                except queue.Empty:
                    break
            arrived: list[tuple[int, Any]] = []
            answers: list[A] = []
            records: list[R] = []
            error: BaseException | None = None
            for kind, payload in got:
                if kind == _ANSWERED:
                    arrived.append(payload)
                elif kind == _ANSWERS:
                    answers.extend(payload)
                elif kind == _RECORDS:
                    records.extend(payload)
                else:
                    error = error or payload
            try:
                if arrived:
                    answers.extend(self.submission.finish(arrived))
                if answers:
                    records.extend(self._dispatch(answers))
            except BaseException as e:
                error = error or e
            if records:
                self._write(records)
                written += len(records)
            if error is not None:
                raise error

    def _dispatch(self, answers: list[A]) -> list[R]:
        """Records scored here (no judge: scorers are cheap functions), or [] when the answers
        went to the judging threads."""
        if self.scoring is None:
            return self.stages.score(answers)
        if self.score_pool is not None:
            # what arrived together is judged together: the judge's adapter sends the whole
            # group at once under its own limit, and no thread waits on a single request
            self.score_pool.submit(self._score, answers)
        else:
            self.local_scores.put(answers)
        return []

    def _write(self, records: list[R]) -> None:
        try:
            self.stages.write(records)
        except BaseException:
            self.write_failed = True  # a full disk is not tried again while stopping
            raise

    def _shut_down(self) -> None:
        self.stopped.set()
        if self.flight is not None:
            self.flight.cancel()  # what was in flight is lost (and asked again on resume)
        if self.answer_pool is not None:
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
                kind, payload = self.events.get_nowait()
            except queue.Empty:
                break
            if kind == _RECORDS:
                records.extend(payload)
        if records:
            self._write(records)

    # ------------------------------------------------------------------ worker threads

    def _answer(self, unit: list[S]) -> None:
        if self.stopped.is_set():
            return
        try:
            self.events.put((_ANSWERS, checked(self.stages.answer(unit), unit)))
        except BaseException as e:  # reported to the caller's thread, which raises it
            self.events.put((_ERROR, e))

    def _score(self, answers: list[A]) -> None:
        if self.stopped.is_set():
            return
        try:
            self.events.put((_RECORDS, self.stages.score(answers)))
        except BaseException as e:
            self.events.put((_ERROR, e))

    def _score_locally(self) -> None:
        """One thread scores for a local judge, in batches of what has been answered so far
        (up to the scoring flow's size)."""
        assert self.scoring is not None
        size = self.scoring.size or 1
        batch: list[A] = []
        while True:
            if not batch:
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
            now, batch = batch[:size], batch[size:]
            if not self.stopped.is_set():
                self._score(now)
            if end:
                return
