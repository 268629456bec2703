"""``benchmarks/served_throughput.py`` runs end to end on a small load: the figures in
docs/benchmarks.md come from this script, so it must keep working as written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_served_throughput_benchmark_runs(tmp_path: Path) -> None:
    out = tmp_path / "served.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "served_throughput.py"), "--requests", "12",
         "--concurrency", "4", "--latency", "0.05", "--repeats", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert [(r["concurrency"], r["judge"]) for r in rows] == [(4, False), (4, True)]
    for r in rows:
        assert r["ideal_s"] == pytest.approx((4 if r["judge"] else 3) * 0.05)
        # every request waits its latency: no client can beat the ideal
        assert r["ours_requests_s"] >= r["ideal_s"]
        assert r["raw_aiohttp_adapter_loop_s"] >= r["ideal_s"]
        assert r["startup_s"] > 0 and r["wall_vs_ideal_plus_startup"] > 0
    assert "| 4 | yes |" in done.stdout
