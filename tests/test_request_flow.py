"""Request flow: batches for local models, continuous concurrency for served ones, chunks for
vLLM; served judges concurrent under their own limit and overlapping generation.

The flow itself is exercised with real callables whose stages wait on each other (a barrier, an
event): a test that would need a batch barrier, or that needs overlap, hangs and fails on a
timeout instead of passing, so no timing is asserted. The runner is exercised end to end against
real servers on 127.0.0.1 that hold their first N requests until N are in flight together."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from fake_openai_server import FakeOpenAIServer

from eval_anything.core.requests import RequestFlow
from eval_anything.judges.llm import openai_judge
from eval_anything.models.openai import OpenAIModel
from eval_anything.run.pipeline import Stages, units
from eval_anything.run.request_flow import run_flow, scoring_flow
from eval_anything.run.runner import evaluate

WAIT = 20.0  # seconds before a stage that waits for another gives up (a failure, not a timing)


class Log:
    """Records of the write stage and the threads each stage ran on."""

    def __init__(self) -> None:
        self.written: list[int] = []
        self.writes = 0
        self.threads: dict[str, set[int]] = {"answer": set(), "score": set(), "write": set()}
        self.lock = threading.Lock()

    def saw(self, stage: str) -> None:
        with self.lock:
            self.threads[stage].add(threading.get_ident())

    def write(self, records: list[int]) -> None:
        self.saw("write")
        self.written.extend(records)
        self.writes += 1


def test_flow_declarations() -> None:
    assert RequestFlow.batches(8) == RequestFlow(kind="batches", size=8, in_flight=1)
    assert RequestFlow.concurrent(64) == RequestFlow(kind="concurrent", size=1, in_flight=64)
    assert RequestFlow.chunks(None).size is None
    with pytest.raises(ValueError, match="--batch-size"):
        RequestFlow.batches(0)
    served = OpenAIModel(model="m", base_url="http://127.0.0.1:9/v1", max_concurrency=64)
    # --batch-size is for local models only: a served model ignores it
    assert served.request_flow(8) == RequestFlow.concurrent(64)
    assert units(list(range(10)), RequestFlow.batches(4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert units(list(range(10)), RequestFlow.chunks(None)) == [list(range(10))]


def test_scoring_flow_follows_the_judges() -> None:
    assert scoring_flow([], 8) is None
    served = [RequestFlow.concurrent(16), RequestFlow.concurrent(4)]
    assert scoring_flow(served, 8) == RequestFlow.concurrent(16)
    assert scoring_flow([RequestFlow.concurrent(16), RequestFlow.batches(2)], 8) == (
        RequestFlow.batches(8)
    )
    judge = openai_judge("m,base_url=http://127.0.0.1:9/v1,max_concurrency=12")
    assert judge.request_flow(8) == RequestFlow.concurrent(12)


def test_local_flow_is_a_plain_loop_in_the_callers_thread() -> None:
    log = Log()
    calls: list[list[int]] = []

    def answer(unit: list[int]) -> list[int]:
        log.saw("answer")
        calls.append(unit)
        return [x * 10 for x in unit]

    def score(answers: list[int]) -> list[int]:
        log.saw("score")
        return [a + 1 for a in answers]

    run_flow(list(range(7)), RequestFlow.batches(3), None, Stages(answer, score, log.write))
    assert calls == [[0, 1, 2], [3, 4, 5], [6]]
    assert log.written == [1, 11, 21, 31, 41, 51, 61]
    me = {threading.get_ident()}
    assert log.threads == {"answer": me, "score": me, "write": me}


def test_concurrent_flow_keeps_the_limit_in_flight_without_a_batch_barrier() -> None:
    n, limit = 40, 8
    log = Log()
    together = threading.Barrier(limit, timeout=WAIT)  # the first 8 answers wait for each other
    rest_written = threading.Event()
    active = 0
    peak = 0
    lock = threading.Lock()

    def answer(unit: list[int]) -> list[int]:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            (x,) = unit
            if x < limit:
                together.wait()
            if x == 0:  # a slow request: the others must not wait for it
                assert rest_written.wait(WAIT), "the flow waited for a slow request"
            return unit
        finally:
            with lock:
                active -= 1

    def write(records: list[int]) -> None:
        log.write(records)
        if len(log.written) == n - 1:
            rest_written.set()

    run_flow(list(range(n)), RequestFlow.concurrent(limit), None,
             Stages(answer, lambda a: a, write))
    assert sorted(log.written) == list(range(n))
    assert log.written[-1] == 0
    assert peak == limit
    assert log.threads["write"] == {threading.get_ident()}


def test_served_judging_overlaps_generation() -> None:
    n = 12
    log = Log()
    last_answered = threading.Event()

    def answer(unit: list[int]) -> list[int]:
        log.saw("answer")
        if unit == [n - 1]:
            last_answered.set()
        return unit

    def score(answers: list[int]) -> list[int]:
        log.saw("score")
        if answers == [0]:  # judging the first item goes on while the last is generated
            assert last_answered.wait(WAIT), "generation waited for judging"
        return answers

    run_flow(list(range(n)), RequestFlow.concurrent(4), RequestFlow.concurrent(4),
             Stages(answer, score, log.write))
    assert sorted(log.written) == list(range(n))
    assert threading.get_ident() not in log.threads["answer"] | log.threads["score"]


def test_local_judge_scores_on_one_thread_in_batches() -> None:
    log = Log()
    sizes: list[int] = []
    gate = threading.Event()

    def answer(unit: list[int]) -> list[int]:
        if unit != [0]:
            gate.wait(WAIT)  # item 0 is scored alone; the rest pile up meanwhile
        return unit

    def score(answers: list[int]) -> list[int]:
        log.saw("score")
        sizes.append(len(answers))
        gate.set()
        return answers

    run_flow(list(range(9)), RequestFlow.concurrent(8), RequestFlow.batches(4),
             Stages(answer, score, log.write))
    assert sorted(log.written) == list(range(9))
    assert len(log.threads["score"]) == 1
    assert max(sizes) <= 4 and sum(sizes) == 9


def test_a_failing_stage_raises_after_writing_what_completed() -> None:
    log = Log()
    others_done = threading.Event()

    def answer(unit: list[int]) -> list[int]:
        if unit == [5]:
            assert others_done.wait(WAIT)
            raise RuntimeError("answer stage broke on item 5")
        return unit

    def write(records: list[int]) -> None:
        log.write(records)
        if len(log.written) == 5:
            others_done.set()

    with pytest.raises(RuntimeError, match="item 5"):
        run_flow(list(range(6)), RequestFlow.concurrent(3), None,
                 Stages(answer, lambda a: a, write))
    assert sorted(log.written) == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------------- the runner, served


def _task(folder: Path, n: int, judged: bool) -> str:
    folder.mkdir(exist_ok=True)
    rows = [{"id": f"q{i}", "question": f"question {i}", "answer": "7"} for i in range(n)]
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    name = "served_judged" if judged else "served_plain"
    scorer = ("{name: instruction_following, args: {modality: text}}" if judged
              else "{name: exact_match}")
    (folder / f"{name}.yaml").write_text(
        f"task: {name}\nsource: {{jsonl: rows.jsonl}}\nloader: {{name: qa}}\n"
        f"scorers: [{scorer}]\n"
    )
    return name


def test_default_settings_reach_max_concurrency(tmp_path: Path) -> None:
    """max_concurrency=16 with the default --batch-size (8): 16 requests in flight at once."""
    task = _task(tmp_path / "tasks", 48, judged=False)
    with FakeOpenAIServer(hold_first=16, hold_timeout=WAIT) as srv:
        res = evaluate(
            "openai", [task], model_args={"base_url": srv.base_url, "model": "m",
                                          "max_concurrency": 16},
            include_paths=[tmp_path / "tasks"], output_dir=tmp_path / "run", cache_path=None,
            progress=False,
        )
    assert srv.max_in_flight == 16
    assert len(srv.received) == 48 and res.tasks[task].n == 48


class RendezvousServer(FakeOpenAIServer):
    """Each judge request (the judge sends a system turn; the model here does not) waits until
    a generation request is in flight beside it, or until every generation request is done,
    and counts the times it met one. Served judging that overlaps generation meets them; a
    batch barrier (generate a batch, then judge it) never does."""

    def __init__(self, n: int, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.n, self.gen_in_flight, self.gen_done, self.met = n, 0, 0, 0
        self.meet = threading.Condition()

    def handle(self, headers: dict[str, str], body: dict) -> tuple:  # type: ignore[type-arg]
        judging = body["messages"][0]["role"] == "system"
        with self.meet:
            if judging:
                ok = self.meet.wait_for(
                    lambda: self.gen_in_flight > 0 or self.gen_done == self.n, timeout=WAIT
                )
                self.met += int(ok and self.gen_in_flight > 0)
            else:
                self.gen_in_flight += 1
                self.meet.notify_all()
        try:
            return super().handle(headers, body)
        finally:
            if not judging:
                with self.meet:
                    self.gen_in_flight -= 1
                    self.gen_done += 1
                    self.meet.notify_all()


def test_served_judging_overlaps_generation_end_to_end(tmp_path: Path) -> None:
    n = 24
    task = _task(tmp_path / "tasks", n, judged=True)
    with RendezvousServer(n, default_answer="Rating: [[7]]", delay=0.01) as srv:
        res = evaluate(
            "openai", [task], model_args={"base_url": srv.base_url, "model": "m",
                                          "max_concurrency": 2},
            judges={"judge": f"openai:m,base_url={srv.base_url},max_concurrency=4"},
            include_paths=[tmp_path / "tasks"], output_dir=tmp_path / "run", cache_path=None,
            progress=False,
        )
    assert srv.met > 0
    assert len(srv.received) == 2 * n
    assert res.tasks[task].metrics["instruction_following"].value == pytest.approx(7.0)


def test_served_judge_reaches_its_own_limit(tmp_path: Path) -> None:
    """Model limit 2, judge limit 6 (separate servers): 6 judge requests in flight at once."""
    task = _task(tmp_path / "tasks", 30, judged=True)
    with FakeOpenAIServer(default_answer="Rating: [[7]]") as gen, FakeOpenAIServer(
        default_answer="Rating: [[7]]", hold_first=6, hold_timeout=WAIT
    ) as judge_srv:
        evaluate(
            "openai", [task], model_args={"base_url": gen.base_url, "model": "m",
                                          "max_concurrency": 2},
            judges={"judge": f"openai:m,base_url={judge_srv.base_url},max_concurrency=6"},
            include_paths=[tmp_path / "tasks"], output_dir=tmp_path / "run", cache_path=None,
            progress=False,
        )
    assert judge_srv.max_in_flight == 6 and gen.max_in_flight <= 2
    assert len(judge_srv.received) == 30

    # re-judging the run (eval-anything score) flows the same way: 6 in flight, default batch 8
    from eval_anything.run.rescore import rescore

    with FakeOpenAIServer(default_answer="Rating: [[9]]", hold_first=6,
                          hold_timeout=WAIT) as again:
        res = rescore(tmp_path / "run", {"judge": f"openai:m,base_url={again.base_url},"
                                                  "max_concurrency=6"},
                      output_dir=tmp_path / "rescored", include_paths=[tmp_path / "tasks"],
                      cache_path=None)
    assert again.max_in_flight == 6 and len(again.received) == 30
    assert res.tasks[task].metrics["instruction_following"].value == pytest.approx(9.0)


class RecordingEngine:
    """The surface of ``vllm.LLM`` (a GPU engine outside this process) that the adapter uses:
    it records how many prompts each ``generate`` call carried and answers "7" to each."""

    def __init__(self, folder: Path) -> None:
        from transformers import AutoTokenizer

        self.tok = AutoTokenizer.from_pretrained(folder)
        self.calls: list[int] = []

    def get_tokenizer(self) -> object:
        return self.tok

    def generate(self, prompts: list[dict], params: list[dict],  # type: ignore[type-arg]
                 use_tqdm: bool = False) -> list[object]:
        from types import SimpleNamespace

        self.calls.append(len(prompts))
        done = SimpleNamespace(text="7", token_ids=[5], finish_reason="stop")
        return [SimpleNamespace(outputs=[done], prompt_token_ids=p.get("prompt_token_ids"),
                                prompt_logprobs=None) for p in prompts]


def test_vllm_takes_chunks_not_batches(tmp_path: Path) -> None:
    from tiny import build_tiny_llama

    from eval_anything.models.vllm import VLLMModel

    tiny = build_tiny_llama(tmp_path / "lm")
    engine = RecordingEngine(tiny)
    adapter = VLLMModel(pretrained=str(tiny), engine=engine)
    assert adapter.request_flow(8) == RequestFlow.chunks(1024)
    task = _task(tmp_path / "tasks", 20, judged=False)
    res = evaluate(
        "vllm", [task], adapter=adapter, include_paths=[tmp_path / "tasks"], batch_size=8,
        output_dir=tmp_path / "run", cache_path=None, progress=False,
    )
    assert engine.calls == [20]  # one call with the whole task, not three of --batch-size 8
    assert res.tasks[task].n == 20 and res.tasks[task].metrics["exact_match"].value == 1.0
    small = VLLMModel(pretrained=str(tiny), engine=RecordingEngine(tiny), chunk_size=0)
    assert small.request_flow(8).size is None


def test_one_adapter_shared_by_threads_keeps_one_limit() -> None:
    from eval_anything.core.content import TextPart
    from eval_anything.core.requests import GenerateRequest

    with FakeOpenAIServer(hold_first=5, hold_timeout=WAIT) as srv:
        adapter = OpenAIModel(model="m", base_url=srv.base_url, max_concurrency=5)
        outs: list[list[str]] = [[] for _ in range(4)]

        def call(k: int) -> None:
            reqs = [GenerateRequest.from_parts([TextPart(text=f"t{k}-{i}")]) for i in range(6)]
            outs[k] = [o.text for o in adapter.generate(reqs)]

        threads = [threading.Thread(target=call, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        adapter.close()
    assert srv.max_in_flight == 5
    assert outs == [[f"echo: t{k}-{i}" for i in range(6)] for k in range(4)]


def test_sample_log_appends_reach_readers_at_once_and_a_torn_tail_is_cut(tmp_path: Path) -> None:
    """The runner's sample log stays open between appends: each append is readable by another
    reader at once (a kill loses nothing written), the torn line a killed run left is cut
    before the first append, and an append after close opens the file again."""
    from eval_anything.core.results import SampleRecord
    from eval_anything.core.results_files import iter_sample_records
    from eval_anything.run.request_flow import SampleLog

    path = tmp_path / "samples" / "t.jsonl"
    rec = [SampleRecord(sample_id=f"s{i}", input_ref="r", prompt_hash="p") for i in range(5)]
    first = SampleLog(path)
    first.append(rec[:1])
    first.close()
    with path.open("a") as f:
        f.write(rec[1].model_dump_json()[:20])  # a kill mid-write
    log = SampleLog(path)
    log.append(rec[1:3])
    assert [r.sample_id for r in iter_sample_records(path)] == ["s0", "s1", "s2"]
    log.append(rec[3:4])
    assert [r.sample_id for r in iter_sample_records(path)] == ["s0", "s1", "s2", "s3"]
    log.close()
    log.append(rec[4:])
    log.close()
    assert [r.sample_id for r in iter_sample_records(path)] == [f"s{i}" for i in range(5)]
    assert path.read_text().count("\n") == 5
