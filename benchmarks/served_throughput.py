"""Served-model throughput: ``eval-anything run`` against the ideal and a raw client.

    python benchmarks/served_throughput.py [--requests 500] [--concurrency 8 64 256]
        [--latency 0.2] [--repeats 3] [--json served_throughput.json]

A local OpenAI-compatible server (``tests/fake_openai_server.py`` in a process of its own, one
asyncio event loop) answers every request ``--latency`` seconds after it arrived, whatever the
load, so the limits are the client's and the machine's. For each concurrency C, with and
without a judge (the same server, bound with ``--judge judge=openai:...,max_concurrency=C``),
three things are timed:

- ours: ``eval-anything run --model openai --model-args ...,max_concurrency=C`` on a task of
  ``--requests`` generated items, default ``--batch-size``, no cache (the whole command: wall);
  ``requests`` is the task's own time from ``results.json`` (the request phase, no start-up);
- start-up: the same command on one item, run just before each full run, minus that item's
  latency (imports, planning, the run folder and the results file); the wall ratio is taken
  per round against its own start-up;
- raw: a bare asyncio client sending the same requests at the same concurrency (a second
  semaphore and client for the judge request that follows each answer): over aiohttp and over
  httpx on asyncio's loop, and over aiohttp on the adapter's own event loop (uvloop where
  installed), the adapter's own client without the adapter; ours against the last one is the
  harness's own cost: planning, judging, records, the log;
- ideal: ``ceil(N / C) x latency`` (waves of C requests); with a judge one more wave, since the
  last answers still need their verdicts.
- CPU: the command's CPU seconds (user + system) beyond those of the one-item start-up run,
  and the raw aiohttp client's: on a shared machine the CPU a request costs us decides how far
  the wall time stretches when the cores are busy.

Medians over ``--repeats`` rounds. Prints a Markdown table; ``--json`` writes the figures too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ANSWER = "Rating: [[7]]"  # a valid verdict, so the same server serves the model and the judge

TASK_YAML = """task: {name}
version: "1"
description: served-throughput benchmark items
source: {{jsonl: items.jsonl}}
loader: {{name: qa}}
prompt:
  template: "{{{{ text }}}}"
generation: {{max_new_tokens: 16, temperature: 0.0}}
scorers:
  - {scorer}
input_modalities: [text]
output_modalities: [text]
"""


def write_tasks(folder: Path, n: int) -> None:
    """Two tasks over the same ``n`` distinct questions: one without a judge, one with."""
    rows = [{"id": f"q{i:05d}", "question": f"What is {i} + {i}?", "answer": str(2 * i)}
            for i in range(n)]
    (folder / "items.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    plain = "{name: exact_match, args: {regex: '-?\\\\d+'}}"
    judged = "{name: instruction_following, args: {modality: text}}"
    (folder / "bench_plain.yaml").write_text(TASK_YAML.format(name="bench_plain", scorer=plain))
    (folder / "bench_judged.yaml").write_text(
        TASK_YAML.format(name="bench_judged", scorer=judged)
    )


def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fake_openai_server.py"),
         "--latency", str(latency), "--answer", ANSWER],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("BASE_URL "):
        proc.kill()
        raise RuntimeError(f"fake server did not start: {line!r}")
    return proc, line.split()[1]


def ours(base_url: str, tasks_dir: Path, work: Path, conc: int, judged: bool,
         limit: int) -> tuple[float, float, float]:
    """(command wall seconds, the task's own seconds from results.json, the command's CPU
    seconds, user and system)."""
    task = "bench_judged" if judged else "bench_plain"
    out = Path(tempfile.mkdtemp(dir=work))
    cmd = [
        sys.executable, "-c", "from eval_anything.cli import app; app()", "run",
        "--model", "openai",
        "--model-args", f"base_url={base_url},model=m,max_concurrency={conc}",
        "--tasks", task, "--include-path", str(tasks_dir), "--limit", str(limit),
        "--no-cache", "--quiet", "--output-dir", str(out / "run"),
    ]
    if judged:
        cmd += ["--judge", f"judge=openai:m,base_url={base_url},max_concurrency={conc}"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "EVAL_ANYTHING_CACHE_DIR": str(work / "cache")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    results = json.loads((out / "run" / "results.json").read_text())
    n = results["tasks"][task]["n"]
    if n != limit:
        raise RuntimeError(f"run wrote {n} records, expected {limit}")
    return wall, float(results["timings"][task]), cpu


RAW_CLIENTS = ("aiohttp", "httpx", "aiohttp_adapter_loop")


def run_raw(client: Any, library: str) -> float:
    """aiohttp and httpx on asyncio's own loop; ``aiohttp_adapter_loop`` on the adapter's loop
    (uvloop where installed), so that ours against it is the harness's cost alone."""
    from eval_anything.models.openai_http import new_event_loop

    factory = new_event_loop if library == "aiohttp_adapter_loop" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return float(runner.run(client))


async def raw_client(base_url: str, n: int, conc: int, judged: bool, library: str) -> float:
    """The same requests from a bare asyncio client over ``library`` (one of
    :data:`RAW_CLIENTS`)."""
    url = f"{base_url}/chat/completions"
    gen_gate, judge_gate = asyncio.Semaphore(conc), asyncio.Semaphore(conc)
    post = await _poster(library, conc)

    async def one(i: int) -> None:
        body = {"model": "m", "max_tokens": 16, "temperature": 0.0,
                "messages": [{"role": "user", "content": f"What is {i} + {i}?"}]}
        async with gen_gate:
            answer = await post(0, url, body)
        if judged:
            text = answer["choices"][0]["message"]["content"]
            verdict = {"model": "m", "max_tokens": 256, "temperature": 0.0,
                       "messages": [{"role": "system", "content": "Rate it."},
                                    {"role": "user", "content": text}]}
            async with judge_gate:
                await post(1, url, verdict)

    try:
        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - t0
    finally:
        await post.close()  # type: ignore[attr-defined]


async def _poster(library: str, conc: int) -> Any:
    """``post(client_index, url, body) -> JSON`` over two clients (model, judge) of ``library``;
    ``post.close()`` closes them."""
    if library in ("aiohttp", "aiohttp_adapter_loop"):
        import aiohttp

        sessions = [aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conc))
                    for _ in range(2)]

        async def post(k: int, url: str, body: dict[str, Any]) -> Any:
            async with sessions[k].post(url, json=body) as resp:
                return await resp.json()

        async def close() -> None:
            for s in sessions:
                await s.close()
    else:
        import httpx

        limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
        clients = [httpx.AsyncClient(limits=limits, timeout=60) for _ in range(2)]

        async def post(k: int, url: str, body: dict[str, Any]) -> Any:
            return (await clients[k].post(url, json=body)).json()

        async def close() -> None:
            for c in clients:
                await c.aclose()

    post.close = close  # type: ignore[attr-defined]
    return post


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[8, 64, 256])
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="served_throughput-"))
    tasks_dir = work / "tasks"
    tasks_dir.mkdir()
    write_tasks(tasks_dir, args.requests)
    server, base_url = start_server(args.latency)
    rows: list[dict[str, Any]] = []
    try:
        for judged in (False, True):
            for conc in args.concurrency:
                rows.append(measure(args, base_url, tasks_dir, work, conc, judged))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(table(rows, args.latency))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


def measure(args: argparse.Namespace, base_url: str, tasks_dir: Path, work: Path, conc: int,
            judged: bool) -> dict[str, Any]:
    """One row: ``--repeats`` rounds, each a one-item run (start-up), the full run right
    after it, then the raw clients. The wall ratio is taken per round against that round's
    own start-up, so that a start-up measured at a quieter or busier moment than its run
    does not move the ratio; medians over the rounds."""
    waves = math.ceil(args.requests / conc) + (1 if judged else 0)
    ideal = waves * args.latency
    startups, ratios, walls, phases, cpus, raw_cpus = [], [], [], [], [], []
    raws: dict[str, list[float]] = {lib: [] for lib in RAW_CLIENTS}
    for _ in range(args.repeats):
        one_wall, _, one_cpu = ours(base_url, tasks_dir, work, conc, judged, 1)
        startup = one_wall - args.latency * (2 if judged else 1)
        wall, phase, cpu = ours(base_url, tasks_dir, work, conc, judged, args.requests)
        startups.append(startup)
        ratios.append(wall / (ideal + startup))
        walls.append(wall)
        phases.append(phase)
        cpus.append(cpu - one_cpu)
        for lib, times in raws.items():
            c0 = time.process_time()
            times.append(run_raw(raw_client(base_url, args.requests, conc, judged, lib), lib))
            if lib == "aiohttp":
                raw_cpus.append(time.process_time() - c0)
    med = statistics.median
    row = {
        "concurrency": conc, "judge": judged, "requests": args.requests,
        "ideal_s": round(ideal, 3),
        "startup_s": round(med(startups), 3),
        "ours_wall_s": round(med(walls), 3),
        "ours_requests_s": round(med(phases), 3),
        "raw_aiohttp_s": round(med(raws["aiohttp"]), 3),
        "raw_httpx_s": round(med(raws["httpx"]), 3),
        "raw_aiohttp_adapter_loop_s": round(med(raws["aiohttp_adapter_loop"]), 3),
        "ours_cpu_over_startup_s": round(med(cpus), 3),
        "raw_aiohttp_cpu_s": round(med(raw_cpus), 3),
        "load_average": round(os.getloadavg()[0], 1),
        "wall_vs_ideal_plus_startup": round(med(ratios), 3),
    }
    row["requests_vs_raw"] = round(row["ours_requests_s"] / row["raw_aiohttp_s"], 3)
    return row


def table(rows: list[dict[str, Any]], latency: float) -> str:
    lines = [
        "| concurrency | judge | ideal (s) | start-up (s) | ours: run wall (s) | ours: "
        "requests (s) | raw aiohttp (s) | raw httpx (s) | raw aiohttp on the adapter's loop "
        "(s) | "
        "ours requests / raw aiohttp | "
        "ours wall / (ideal + start-up) | ours CPU beyond start-up (s) | raw aiohttp CPU (s) "
        "| load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['concurrency']} | {'yes' if r['judge'] else 'no'} | {r['ideal_s']:.2f} | "
            f"{r['startup_s']:.2f} | {r['ours_wall_s']:.2f} | {r['ours_requests_s']:.2f} | "
            f"{r['raw_aiohttp_s']:.2f} | {r['raw_httpx_s']:.2f} | "
            f"{r['raw_aiohttp_adapter_loop_s']:.2f} | "
            f"{r['requests_vs_raw']:.2f} | "
            f"{r['wall_vs_ideal_plus_startup']:.2f} | {r['ours_cpu_over_startup_s']:.2f} | "
            f"{r['raw_aiohttp_cpu_s']:.2f} | {r['load_average']} |"
        )
    lines.append(f"\n{rows[0]['requests'] if rows else 0} requests, server latency {latency} s.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
