"""``--judge-repeats K``: a sampling judge behind a real HTTP server on 127.0.0.1 asked K times
per item with seeds 0..K-1; the item's score is the mean of its repeats, results carry the
repeats' alpha and within-item spread, and a rerun after a failed repeat asks only that one."""

from __future__ import annotations

import hashlib
import json
import statistics
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eval_anything import evaluate
from eval_anything.cli import app
from eval_anything.core.results_files import read_results, read_sample_records
from eval_anything.errors import UserError
from eval_anything.judges.llm import SEED_STRIDE

RESPONSES = Path(__file__).resolve().parents[1] / "tasks" / "mini" / "labels" / "responses.jsonl"
TASK, SCORE, N = "mini_amg_if_text", "instruction_following", 6


def rating(prompt: str, seed: int) -> int:
    """The server's judge: a base rating per item plus noise (-2..2) drawn from the seed."""
    base = 3 + int(hashlib.sha256(prompt.encode()).hexdigest(), 16) % 5
    noise = int(hashlib.sha256(f"{prompt}|{seed}".encode()).hexdigest(), 16) % 5 - 2
    return base + noise


class JudgeServer:
    """Answers ``Rating: [[N]]``; counts requests per seed; ``broken_repeat`` answers HTTP 400
    to every try of that repeat (a judge call that fails for good)."""

    def __init__(self) -> None:
        self.seeds: Counter[int | None] = Counter()
        self.broken_repeat: int | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                seed = body.get("seed")
                server.seeds[seed] += 1
                if seed is not None and seed // SEED_STRIDE == server.broken_repeat:
                    self._send(400, {"error": {"message": "planned failure"}})
                    return
                prompt = str(body["messages"][-1]["content"])
                text = f"Judged. Rating: [[{rating(prompt, seed or 0)}]]"
                self._send(200, {
                    "id": "x", "object": "chat.completion", "model": body.get("model"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                })

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture()
def server() -> Iterator[JudgeServer]:
    s = JudgeServer()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def binding(server: JudgeServer, temperature: float = 0.7) -> str:
    return (f"openai:judge-m,base_url={server.base_url},temperature={temperature},attempts=2,"
            "max_retries=0")


def run(server: JudgeServer, out: Path, repeats: int, cache: Path) -> Any:
    return evaluate("scripted", TASK, model_args={"script": str(RESPONSES)}, limit=N,
                    judges={"judge": binding(server)}, output_dir=out, cache_path=cache,
                    progress=False, judge_repeats=repeats)


def test_repeats_mean_spread_and_interval(server: JudgeServer, tmp_path: Path) -> None:
    one = run(server, tmp_path / "one", 1, tmp_path / "c.sqlite").tasks[TASK]
    three = run(server, tmp_path / "three", 3, tmp_path / "c.sqlite").tasks[TASK]
    assert set(server.seeds) == {0, 1000, 2000}  # each repeat its own seed (run one: seed 0)
    records = read_sample_records(tmp_path / "three", TASK)
    sds = []
    for r in records:
        rec = r.scores[SCORE]
        values = [e["value"] for e in rec.details["repeats"]]
        assert len(values) == 3 and rec.value == pytest.approx(statistics.fmean(values))
        sds.append(statistics.stdev(values))
    (agreement,) = three.judge_agreement
    assert agreement.source == "repeats" and agreement.raters == 3
    assert agreement.within_item_sd == pytest.approx(statistics.fmean(sds), abs=1e-6)
    assert agreement.within_item_sd > 0
    # the interval is over item means: a different width from one sampled repeat's
    metric_one, metric_three = one.metrics[SCORE], three.metrics[SCORE]
    width = [m.ci_high - m.ci_low for m in (metric_one, metric_three)]  # type: ignore[operator]
    assert width[0] != pytest.approx(width[1])
    assert read_results(tmp_path / "three").spec.judge_repeats == 3


def test_rerun_asks_only_the_repeat_that_failed(server: JudgeServer, tmp_path: Path) -> None:
    server.broken_repeat = 2
    first = run(server, tmp_path / "r", 3, tmp_path / "c.sqlite").tasks[TASK]
    assert first.n_failed == N
    asked_before = Counter(server.seeds)
    assert asked_before[0] == N and asked_before[1000] == N and asked_before[2000] == N
    server.broken_repeat = None
    server.seeds.clear()
    again = run(server, tmp_path / "r", 3, tmp_path / "c.sqlite").tasks[TASK]
    assert again.n_failed == 0 and again.n == N
    assert dict(server.seeds) == {2000: N}  # repeats 0 and 1 came from the cache


def test_repeats_refuse_a_greedy_judge_and_a_changed_count(server: JudgeServer,
                                                            tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not sample"):
        evaluate("scripted", TASK, model_args={"script": str(RESPONSES)}, limit=2,
                 judges={"judge": binding(server, 0.0)}, output_dir=tmp_path / "g",
                 cache_path=None, progress=False, judge_repeats=2)
    run(server, tmp_path / "k", 2, tmp_path / "c.sqlite")
    with pytest.raises(UserError, match="judge_repeats"):
        run(server, tmp_path / "k", 3, tmp_path / "c.sqlite")


def test_cli_flag_reaches_the_run(server: JudgeServer, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, [
        "run", "--model", "scripted", "--model-args", f"script={RESPONSES}", "--tasks", TASK,
        "--limit", "2", "--judge", f"judge={binding(server)}", "--judge-repeats", "2",
        "--output-dir", str(out), "--no-cache", "--quiet"])
    assert result.exit_code == 0, result.output
    assert read_results(out).spec.judge_repeats == 2


def test_panel_of_sampling_judges_repeats_and_flows(server: JudgeServer) -> None:
    from eval_anything.judges.base import build_judge
    from eval_anything.judges.panel import repeated_judge

    served = build_judge(f"panel:mean:{binding(server)}+{binding(server, 0.9)}")
    assert served.request_flow(4).is_concurrent  # every member is served
    repeated = repeated_judge(served, 2, "test")
    assert repeated.identity().startswith("repeats(2):panel(mean):")
    repeated.close()
    mixed = build_judge(f"panel:mean:{binding(server)}+keyword")
    assert not mixed.request_flow(4).is_concurrent  # a local member: batches, one at a time
    with pytest.raises(UserError, match="does not sample"):
        repeated_judge(mixed, 2, "test")
    mixed.close()


def test_score_rejudges_with_repeats(server: JudgeServer, tmp_path: Path) -> None:
    run(server, tmp_path / "src", 1, tmp_path / "c.sqlite")
    out = tmp_path / "rejudged"
    result = CliRunner().invoke(app, [
        "score", str(tmp_path / "src"), "--judge-repeats", "3", "--output-dir", str(out),
        "--no-cache", "--quiet"])
    assert result.exit_code == 0, result.output
    rejudged = read_results(out)
    assert rejudged.spec.judge_repeats == 3
    (agreement,) = rejudged.tasks[TASK].judge_agreement
    assert agreement.source == "repeats" and agreement.n == N
