"""Streamed answering: a served model gets a task's requests all at once on its own event loop
and hands each answer back as it arrives; the caller's thread scores and writes what arrived
together. Exercised with a submission whose answers come from another thread, and end to end
against a real server on 127.0.0.1 (identical prompts asked once, cached answers not asked)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_openai_server import FakeOpenAIServer

from eval_anything.core.requests import RequestFlow
from eval_anything.run.pipeline import Stages
from eval_anything.run.request_flow import run_flow
from eval_anything.run.runner import evaluate

WAIT = 20.0


class ThreadSubmission:
    """Answers ``x * 10`` for each sample, delivered one by one from a thread of its own (as a
    model's event loop does); ``ready`` holds the samples listed in ``cached``."""

    def __init__(self, samples: list[int], cached: set[int], hold: threading.Event | None) -> None:
        self.ready = [x * 10 for x in samples if x in cached]
        self.todo = [x for x in samples if x not in cached]
        self.hold = hold
        self.cancelled = False
        self.threads: set[int] = set()

    def start(self, deliver: Callable[[int, Any], None]) -> ThreadSubmission:
        def send() -> None:
            for i, x in enumerate(self.todo):
                if i == 2 and self.hold is not None:  # the rest stay "in flight"
                    self.hold.wait(WAIT)
                    if self.cancelled:
                        return
                deliver(i, x * 10)

        threading.Thread(target=send, daemon=True).start()
        return self

    def finish(self, done: list[tuple[int, Any]]) -> list[int]:
        self.threads.add(threading.get_ident())
        return [out for _, out in done]

    def cancel(self) -> None:
        self.cancelled = True
        if self.hold is not None:
            self.hold.set()


def test_streamed_answers_are_scored_and_written_in_the_callers_thread() -> None:
    written: list[int] = []
    score_threads: set[int] = set()
    subs: list[ThreadSubmission] = []

    def submit(samples: list[int]) -> ThreadSubmission:
        subs.append(ThreadSubmission(samples, cached={3, 4}, hold=None))
        return subs[-1]

    def score(answers: list[int]) -> list[int]:
        score_threads.add(threading.get_ident())
        return [a + 1 for a in answers]

    def no_answer(unit: list[int]) -> list[int]:
        raise AssertionError("a streamed flow must not call the answer stage")

    run_flow(list(range(10)), RequestFlow.concurrent(4), None,
             Stages(no_answer, score, written.extend, submit=submit))
    assert sorted(written) == [x * 10 + 1 for x in range(10)]
    assert len(subs) == 1  # every request submitted at once, not one call per request
    me = {threading.get_ident()}
    assert subs[0].threads == me and score_threads == me


def test_a_failing_write_cancels_what_is_in_flight() -> None:
    hold = threading.Event()
    subs: list[ThreadSubmission] = []
    writes: list[list[int]] = []

    def submit(samples: list[int]) -> ThreadSubmission:
        subs.append(ThreadSubmission(samples, cached=set(), hold=hold))
        return subs[-1]

    def write(records: list[int]) -> None:
        writes.append(records)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        run_flow(list(range(6)), RequestFlow.concurrent(4), None,
                 Stages(lambda u: u, lambda a: a, write, submit=submit))
    assert subs[0].cancelled
    assert len(writes) == 1  # not tried again while stopping


def _task(folder: Path, questions: list[str]) -> str:
    folder.mkdir(exist_ok=True)
    rows = [{"id": f"q{i}", "question": q, "answer": "7"} for i, q in enumerate(questions)]
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "streamed.yaml").write_text(
        "task: streamed\nsource: {jsonl: rows.jsonl}\nloader: {name: qa}\n"
        "scorers: [{name: exact_match}]\n"
    )
    return "streamed"


def test_served_run_asks_each_prompt_once_and_cached_ones_never(tmp_path: Path) -> None:
    questions = [f"question {i % 7}" for i in range(21)]  # 7 distinct prompts, 3 times each
    task = _task(tmp_path / "tasks", questions)
    cache = tmp_path / "cache.sqlite"
    with FakeOpenAIServer(default_answer="7") as srv:
        def run(out: str) -> Any:
            return evaluate(
                "openai", [task],
                model_args={"base_url": srv.base_url, "model": "m", "max_concurrency": 3},
                include_paths=[tmp_path / "tasks"], output_dir=tmp_path / out,
                cache_path=cache, progress=False,
            )

        first = run("first")
        assert len(srv.received) == 7
        again = run("again")
        assert len(srv.received) == 7  # every answer came from the cache
    for res in (first, again):
        assert res.tasks[task].n == 21
        assert res.tasks[task].metrics["exact_match"].value == 1.0
    ids = [json.loads(line)["sample_id"]
           for line in (tmp_path / "again" / "samples" / f"{task}.jsonl").read_text().splitlines()]
    assert sorted(ids) == sorted(f"q{i}" for i in range(21))
