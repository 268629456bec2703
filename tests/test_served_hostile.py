"""The served route against real, misbehaving peers on 127.0.0.1 (tests/hostile_servers.py):
proxies from the environment, redirects, answers that never end, inflate or trickle, TLS, and
cancellation. The failing-answer cases run the CLI in a child process and measure its peak
memory against the same command's when the server refuses each item at once: each must fail
its items with a clear message (exit 3) holding at most about the answer cap per request in
flight.

``tests/data/tls`` holds a self-signed certificate for 127.0.0.1 and its key, made for these
tests only (``openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj /CN=localhost
-addext subjectAltName=IP:127.0.0.1,DNS:localhost``)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_openai_server import FakeOpenAIServer
from faulty_server import FaultyServer
from hostile_servers import ForwardProxy, HostileServer

from eval_anything.core.content import TextPart
from eval_anything.core.requests import GenerateRequest
from eval_anything.errors import EXIT_ITEMS_FAILED, ConfigError
from eval_anything.models.env_proxies import bypassed, proxy_for
from eval_anything.models.openai import OpenAIModel

TLS = Path(__file__).parent / "data" / "tls"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from an environment without proxy variables, then sets its own."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def ask(*texts: str) -> list[GenerateRequest]:
    return [GenerateRequest.from_parts([TextPart(text=t)]) for t in texts]


def answers(base_url: str, *texts: str, **args: object) -> list[str]:
    adapter = OpenAIModel(model="m", base_url=base_url, backoff_base=0.01, **args)
    try:
        return [o.error or o.text for o in adapter.generate(ask(*texts))]
    finally:
        adapter.close()


# ------------------------------------------------------------------ proxies


def test_http_proxy_carries_the_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    with ForwardProxy() as proxy, FakeOpenAIServer() as srv:
        monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("//", "//user:p%40ss@"))
        assert answers(srv.base_url, "a", "b", "c") == ["echo: a", "echo: b", "echo: c"]
        assert proxy.forwarded == [f"{srv.base_url}/chat/completions"] * 3
    assert len(srv.received) == 3
    basic = "Basic " + base64.b64encode(b"user:p@ss").decode()
    assert proxy.credentials == [basic] * 3


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost, .example.com ,127.0.0.1", "*",
                                      "127.0.0.0/8"])
def test_no_proxy_sends_the_host_direct(no_proxy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with ForwardProxy() as proxy, FakeOpenAIServer() as srv:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", no_proxy)
        assert answers(srv.base_url, "a", "b") == ["echo: a", "echo: b"]
    assert proxy.forwarded == [] and len(srv.received) == 2


def test_all_proxy_applies_when_the_scheme_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """curl's ALL_PROXY, which aiohttp's own trust_env ignores."""
    with ForwardProxy() as proxy, FakeOpenAIServer() as srv:
        monkeypatch.setenv("ALL_PROXY", proxy.url.removeprefix("http://"))  # no scheme: http
        assert answers(srv.base_url, "a") == ["echo: a"]
    assert len(proxy.forwarded) == 1


def test_an_unreachable_proxy_is_named_and_a_socks_proxy_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://user:pw-secret-77@127.0.0.1:9")
    (error,) = answers("http://127.0.0.1:8/v1", "a", max_retries=0)
    assert "cannot reach the proxy http://127.0.0.1:9 (from HTTP_PROXY)" in error
    assert "pw-secret-77" not in error
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    with pytest.raises(ConfigError, match="ALL_PROXY=socks5://127.0.0.1:1080.*NO_PROXY"):
        OpenAIModel(model="m", base_url="https://api.example.com/v1")


def test_no_proxy_rules_follow_curl() -> None:
    rules = "example.com, .internal.org,10.0.0.0/8,::1"
    assert bypassed("example.com", 443, rules) and bypassed("api.example.com", 443, rules)
    assert not bypassed("notexample.com", 443, rules)
    assert bypassed("a.internal.org", 80, rules) and bypassed("internal.org", 80, rules)
    assert bypassed("10.2.3.4", 80, rules) and not bypassed("11.2.3.4", 80, rules)
    assert bypassed("::1", 80, rules) and not bypassed("example.org", 80, "")
    proxies = {"https": "http://p:3128", "http": "http://q:3128", "no": "example.com"}
    assert proxy_for("https://example.com/v1", proxies) is None
    found = proxy_for("https://api.openai.com/v1", proxies)
    assert found is not None and (found.url, found.variable) == ("http://p:3128", "HTTPS_PROXY")


# ------------------------------------------------------------------ redirects


@pytest.mark.parametrize("status", [307, 308])
def test_a_307_or_308_to_another_port_is_followed_with_the_body(
    status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EA_HOSTILE_KEY", "sk-redirect-test-123")
    with FakeOpenAIServer() as srv, HostileServer(
        "redirect", location=f"{srv.base_url}/chat/completions", status=status
    ) as hop:
        adapter = OpenAIModel(model="m", base_url=hop.base_url, api_key_env="EA_HOSTILE_KEY")
        (out,) = adapter.generate(ask("moved"))
        adapter.close()
    assert out.error is None and out.text == "echo: moved"
    assert len(hop.requests) == 1 and json.loads(hop.requests[0][1])["model"] == "m"
    assert srv.received[0]["body"] == json.loads(hop.requests[0][1])  # the POST body, resent
    assert "authorization" not in srv.received[0]["headers"]  # the key stays with its origin


def test_a_redirect_that_fails_names_its_location() -> None:
    with HostileServer("redirect", location="http://127.0.0.1:9/v1/elsewhere") as hop:
        (error,) = answers(hop.base_url, "a", max_retries=0)
    assert error.startswith("connection error at http://127.0.0.1:9/v1/elsewhere (redirected "
                            f"from http://127.0.0.1:{hop.port}/v1/chat/completions)"), error
    with HostileServer("redirect", location="/v1/chat/completions") as loop:
        (error,) = answers(loop.base_url, "a", max_retries=0)
    assert "more than 5 redirects" in error and len(loop.requests) == 6
    with HostileServer("redirect", location="http://127.0.0.1:9/v2", status=301) as moved:
        (error,) = answers(moved.base_url, "a")
    assert "HTTP 301" in error and "moved to http://127.0.0.1:9/v2" in error
    assert "only 307 and 308" in error and len(moved.requests) == 1  # not retried


# ------------------------------------------------------------------ answers that never end


MEASURED_CLI = """
import resource, sys
import eval_anything.cli
code = 0
try:
    eval_anything.cli.app(sys.argv[1:], prog_name="eval-anything")
except SystemExit as e:
    code = e.code if isinstance(e.code, int) else 1
print(f"PEAK_RSS_BYTES {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}",
      file=sys.stderr)
sys.exit(code)
"""


def run_cli_measured(base_url: str, out: Path, model_args: str) -> tuple[int, str, int]:
    """``eval-anything run --model openai ... --tasks starter_gen --limit 2`` in a child
    process: (exit code, stderr, its peak resident memory in bytes)."""
    cmd = [
        sys.executable, "-c", MEASURED_CLI, "run", "--model", "openai",
        "--model-args", ",".join(filter(None, [f"base_url={base_url},model=m", model_args])),
        "--tasks", "starter_gen", "--limit", "2", "--output-dir", str(out), "--no-cache",
        "--quiet",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env,
                          cwd=out.parent)
    peak = [line for line in done.stderr.splitlines() if line.startswith("PEAK_RSS_BYTES")]
    assert peak, done.stderr[-3000:]
    return done.returncode, done.stderr, int(peak[-1].split()[1])


@pytest.fixture(scope="module")
def baseline_peak(tmp_path_factory: pytest.TempPathFactory) -> int:
    """The same command's peak memory when the server refuses each item at once (HTTP 400):
    the same run, failing the same way, so that the hostile runs measure only what their
    answers cost."""
    with FaultyServer(mode="status", status=400) as srv:
        out = tmp_path_factory.mktemp("baseline") / "run"
        code, stderr, peak = run_cli_measured(srv.base_url, out, "")
    assert code == EXIT_ITEMS_FAILED and "HTTP 400" in stderr, stderr[-3000:]
    return peak


def sample_errors(out: Path) -> list[str]:
    lines = (out / "samples" / "starter_gen.jsonl").read_text().splitlines()
    return [json.loads(line)["metadata"].get("error") or "" for line in lines]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("behaviour", "model_args", "message"),
    [
        # default settings (a 64 MiB cap, both items in flight together): failed at once, not
        # retried, since the same request would get the same answer
        ("endless_chunked", "", "answer larger than 67108864 bytes"),
        ("endless_unframed", "max_response_bytes=2097152", "answer larger than 2097152 bytes"),
        # about 1.8 MB on the wire, 400 MiB inflated: stopped at the cap after decoding
        ("gzip_bomb", "max_response_bytes=1048576", "answer larger than 1048576 bytes"),
        # a byte every half second, never idle for `timeout`: the deadline ends it
        ("trickle", "request_deadline=2,timeout=30,max_retries=0",
         "no whole answer within request_deadline=2 s"),
    ],
)
def test_a_hostile_answer_fails_its_items_in_bounded_memory(
    behaviour: str, model_args: str, message: str, tmp_path: Path, baseline_peak: int
) -> None:
    out = tmp_path / "run"
    with HostileServer(behaviour) as srv:
        code, stderr, peak = run_cli_measured(srv.base_url, out, model_args)
    growth = peak - baseline_peak
    assert code == EXIT_ITEMS_FAILED, stderr[-3000:]
    assert "2 of 2 items failed" in stderr and message in stderr
    assert all(message in e for e in sample_errors(out))
    assert growth < 200 * MIB, f"peak memory grew by {growth / MIB:.0f} MiB"
    assert len(srv.requests) == 2  # too large: not asked again


# ------------------------------------------------------------------ the client itself


def test_kept_alive_connection_and_gzip_answers() -> None:
    with HostileServer("ok_gzip") as srv:
        assert answers(srv.base_url, "a", "b", "c", max_concurrency=1) == ["ok"] * 3
    assert srv.connections == 1 and len(srv.requests) == 3
    line = srv.requests[0][0]
    assert line == "POST /v1/chat/completions HTTP/1.1"


def test_tls_with_a_trusted_certificate_and_refusal_of_an_untrusted_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")
    with HostileServer("ok", tls=context) as srv:
        monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "cert.pem"))
        assert answers(srv.base_url, "a", "b") == ["ok", "ok"]
        monkeypatch.delenv("SSL_CERT_FILE")
        (error,) = answers(srv.base_url, "a", max_retries=0)
    assert "certificate" in error and "SSL_CERT_FILE" in error


def test_cancelling_a_call_closes_its_connection() -> None:
    with HostileServer("trickle", interval=0.05) as srv:
        adapter = OpenAIModel(model="m", base_url=srv.base_url)
        flight = adapter.start_generate(ask("slow"), lambda i, out: None)
        for _ in range(1000):  # until the request is out (at most 10 s)
            if srv.requests:
                break
            time.sleep(0.01)
        assert srv.requests
        flight.cancel()
        assert srv.hung_up.wait(10), "the server never saw the connection end"
        adapter.close()


@pytest.mark.parametrize("choice", ["auto", "asyncio"])
def test_the_adapter_loop_is_uvloop_where_installed_unless_asked_for_asyncio(
    choice: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eval_anything.models.openai_http import new_event_loop

    if choice == "auto":
        pytest.importorskip("uvloop")
    monkeypatch.setenv("EVAL_ANYTHING_EVENT_LOOP", choice)
    loop = new_event_loop()
    try:
        expected = "uvloop" if choice == "auto" else "asyncio"
        assert type(loop).__module__.split(".")[0] == expected
        assert loop.run_until_complete(asyncio.sleep(0, "ran")) == "ran"
    finally:
        loop.close()
