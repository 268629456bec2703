"""Secrets never printed nor stored: a real 127.0.0.1 server echoes the API key (and the whole
Authorization header) in its error bodies; the terminal, the run folder, the response cache and
the leaderboard store must not hold it."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from faulty_server import FaultyServer
from test_retry_errors import write_task
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.redact import MASK, redact, register_secret

SECRET = "sk-test-9f8e7d6c5b4a3210ZZ"


def _files_holding(root: Path, needle: str) -> list[Path]:
    return [
        p for p in root.rglob("*")
        if p.is_file() and needle.encode() in p.read_bytes()
    ]


def test_echoed_key_reaches_no_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("EVAL_SECRET_KEY", SECRET)
    tasks, out = write_task(tmp_path / "tasks"), tmp_path / "run"
    cache, store = tmp_path / "cache.sqlite", tmp_path / "store.sqlite"
    caplog.set_level(logging.WARNING)
    with FaultyServer(mode="status", status=500) as srv:
        srv.fail_only = {"beta question"}
        args = [
            "run", "--model", "openai", "--model-args",
            f"model=m,base_url={srv.base_url},api_key_env=EVAL_SECRET_KEY,max_retries=2,"
            "backoff_base=0.01,max_backoff=0.01,timeout=2",
            "--tasks", "served_qa", "--include-path", str(tasks), "--output-dir", str(out),
            "--cache-path", str(cache), "--quiet", "--fail-on-error", "never",
        ]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        pushed = CliRunner().invoke(app, ["push", str(out), "--store", str(store)])
        assert pushed.exit_code == 0, pushed.output
    # the server did echo it (so the test tests something), as a retry warning would show
    assert "retry" in caplog.text and "HTTP 500" in caplog.text
    terminal = result.output + result.stderr + caplog.text + pushed.output
    assert SECRET not in terminal and "Bearer ***" in terminal
    assert _files_holding(out, SECRET) == []
    assert _files_holding(tmp_path, SECRET) == []  # cache and store included
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT count(*) FROM samples").fetchone()
    assert rows[0] == 4


def test_redact_masks_registered_values_and_auth_headers() -> None:
    register_secret("hunter2-very-secret")
    register_secret("abc")  # too short to redact without shredding ordinary text
    text = (
        "key hunter2-very-secret; Authorization: Bearer tok_123456789; "
        '{"authorization": "Basic dXNlcjpwYXNz"} abc'
    )
    out = redact(text)
    assert "hunter2" not in out and "tok_123456789" not in out and "dXNlcjpwYXNz" not in out
    assert out.count(MASK) == 3 and out.endswith("abc")


def test_redact_catches_headers_in_any_case_the_patterns_match() -> None:
    """The quick pre-check must not let through what the case-insensitive patterns catch,
    capital I with and without a dot included (both match ``i`` under ``(?i)``)."""
    for header in ("AUTHORIZATION", "AuThOrIzAtIoN", "authorizat\u0130on", "author\u0131zation"):
        out = redact(f"{header}: tok_abcdefgh123 and BeArEr tok_987654321")
        assert "tok_abcdefgh123" not in out and "tok_987654321" not in out, header
    assert redact("a plain line with no header") == "a plain line with no header"


def test_log_records_and_warnings_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    register_secret("log-secret-value-42")
    caplog.set_level(logging.INFO)
    logging.getLogger("some.library").warning("server said %s", "log-secret-value-42")
    assert "log-secret-value-42" not in caplog.text and MASK in caplog.text
