"""The ``openai`` adapter's HTTP client (eval_anything/models/http_pool.py) against real sockets
on 127.0.0.1 whose replies are written byte by byte: framing (length, chunked, end of
connection), encodings, keep-alive and its races, timeouts, cancellation and TLS.

``tests/data/tls`` holds a self-signed certificate for 127.0.0.1 and its key, made for these
tests only (``openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj /CN=localhost
-addext subjectAltName=IP:127.0.0.1,DNS:localhost``)."""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from eval_anything.models import http_pool
from eval_anything.models.http_pool import ConnectionPool
from eval_anything.models.http_response import ConnectionFailed

TLS = Path(__file__).parent / "data" / "tls"
Handler = Callable[[socket.socket, int], None]


@pytest.fixture(autouse=True, params=["asyncio", "uvloop"])
def event_loop_kind(request: pytest.FixtureRequest):  # noqa: ANN201 - a fixture
    """Every test on both loops the adapter may run on (openai_http.new_event_loop)."""
    if request.param == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    yield request.param
    asyncio.set_event_loop_policy(None)


class ScriptedServer:
    """Accepts connections on 127.0.0.1; ``handler(sock, n)`` serves the n-th (from 0) on a
    thread of its own and closes it when done."""

    def __init__(self, handler: Handler, tls: bool = False) -> None:
        self.handler = handler
        self.accepted = 0
        self.requests: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.tls: ssl.SSLContext | None = None
        if tls:
            self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/v1/chat/completions"

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            n, self.accepted = self.accepted, self.accepted + 1
            threading.Thread(target=self._serve, args=(sock, n), daemon=True).start()

    def _serve(self, sock: socket.socket, n: int) -> None:
        try:
            if self.tls is not None:
                try:
                    sock = self.tls.wrap_socket(sock, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # the client refused the certificate
            self.handler(sock, n)
        finally:
            sock.close()

    def read_request(self, sock: socket.socket) -> bytes | None:
        """One whole request (head and Content-Length body), or None at the end of the
        connection."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(body) < length:
            body += sock.recv(65536)
        self.requests.append(head)
        return body

    def close(self) -> None:
        self.listener.close()


def reply(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    head = [f"HTTP/1.1 {status}", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def post(pool: ConnectionPool, n: int = 1, headers: dict[str, str] | None = None) -> list:
    async def go() -> list:
        try:
            return [await pool.post(b'{"q": 1}', headers or {})
                    for _ in range(n)]
        finally:
            pool.close()

    return asyncio.run(go())


def serve(handler: Handler, tls: bool = False) -> ScriptedServer:
    return ScriptedServer(handler, tls)


# a fresh server per test, answering every request of every connection with what ``make`` gives
def keep_alive_server(make: Callable[[int], bytes], tls: bool = False) -> ScriptedServer:
    count = [0]
    box: list[ScriptedServer] = []

    def handler(sock: socket.socket, n: int) -> None:
        while box[0].read_request(sock) is not None:
            sock.sendall(make(count[0]))
            count[0] += 1

    box.append(ScriptedServer(handler, tls))
    return box[0]


def test_keep_alive_reuses_one_connection_and_reads_length_framed_bodies() -> None:
    srv = keep_alive_server(lambda i: reply(f'{{"n": {i}}}'.encode(), "X-Twice: a",
                                            "x-twice: b"))
    got = post(ConnectionPool(srv.url, timeout=5), n=3)
    assert [r.body for r in got] == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']
    assert got[0].status == 200 and got[0].headers["x-twice"] == "a, b"
    assert srv.accepted == 1
    head = srv.requests[0].decode()
    assert head.startswith("POST /v1/chat/completions HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{srv.port}" in head and "Content-Length: 8" in head


def test_chunked_body_with_extensions_and_trailer() -> None:
    body = b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n"
    srv = keep_alive_server(lambda i: reply(body, "Transfer-Encoding: chunked"))
    got = post(ConnectionPool(srv.url, timeout=5), n=2)
    assert [r.body for r in got] == [b"hello, world"] * 2 and srv.accepted == 1


@pytest.mark.parametrize(
    "encoding,encode",
    [("gzip", gzip.compress), ("deflate", zlib.compress),
     ("deflate", lambda b: zlib.compress(b)[2:-4])],  # raw deflate, as some servers send
    ids=["gzip", "deflate-zlib", "deflate-raw"],
)
def test_compressed_bodies_are_decoded(encoding: str, encode: Callable[[bytes], bytes]) -> None:
    text = b'{"answer": "' + b"x" * 500 + b'"}'
    srv = keep_alive_server(lambda i: reply(encode(text), f"Content-Encoding: {encoding}"))
    (got,) = post(ConnectionPool(srv.url, timeout=5))
    assert got.body == text


def test_body_framed_by_the_end_of_the_connection_and_connection_close() -> None:
    def until_close(sock: socket.socket, n: int) -> None:
        srv.read_request(sock)
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + b"{}" * 3)

    srv = serve(until_close)
    assert [r.body for r in post(ConnectionPool(srv.url, timeout=5), n=2)] == [b"{}{}{}"] * 2
    assert srv.accepted == 2  # never reused: its end was the body's end

    srv2 = keep_alive_server(lambda i: reply(b"{}", "Connection: close"))
    post(ConnectionPool(srv2.url, timeout=5), n=2)
    assert srv2.accepted == 2


def test_no_content_answers_end_at_their_head() -> None:
    srv = keep_alive_server(lambda i: b"HTTP/1.1 204 No Content\r\n\r\n")
    got = post(ConnectionPool(srv.url, timeout=5), n=2)
    assert [(r.status, r.body) for r in got] == [(204, b"")] * 2 and srv.accepted == 1


def test_interim_responses_are_skipped() -> None:
    srv = keep_alive_server(
        lambda i: b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
        + reply(b'{"ok": 1}', status="201 Created")
    )
    (got,) = post(ConnectionPool(srv.url, timeout=5))
    assert got.status == 201 and got.body == b'{"ok": 1}'


def test_a_kept_alive_connection_closed_as_the_request_goes_out_is_retried_once() -> None:
    """The server answers once, then reads the next request and hangs up without answering
    (the keep-alive race): the pool sends that request again on a new connection."""

    def answer_once(sock: socket.socket, n: int) -> None:
        srv.read_request(sock)
        sock.sendall(reply(f'{{"conn": {n}}}'.encode()))
        srv.read_request(sock)  # then closes without a word

    srv = serve(answer_once)
    got = post(ConnectionPool(srv.url, timeout=5), n=2)
    assert [r.body for r in got] == [b'{"conn": 0}', b'{"conn": 1}']
    assert srv.accepted == 2 and len(srv.requests) == 3


def test_a_connection_the_server_spoke_on_while_idle_is_not_reused() -> None:
    """Some servers send ``408 Request Timeout`` on an idle connection before closing it: that
    answer belongs to no request, so the next request goes out on a new connection."""

    def answer_then_408(sock: socket.socket, n: int) -> None:
        srv.read_request(sock)
        sock.sendall(reply(f'{{"conn": {n}}}'.encode()))
        if n == 0:
            sock.sendall(reply(b"", "Connection: close", status="408 Request Timeout"))
            time.sleep(1.0)

    srv = serve(answer_then_408)
    pool = ConnectionPool(srv.url, timeout=5)

    async def go() -> list:
        first = await pool.post(b"{}", {})
        await asyncio.sleep(0.2)  # the 408 arrives while the connection is idle
        second = await pool.post(b"{}", {})
        pool.close()
        return [first, second]

    got = asyncio.run(go())
    assert [(r.status, r.body) for r in got] == [(200, b'{"conn": 0}'), (200, b'{"conn": 1}')]
    assert srv.accepted == 2


@pytest.mark.parametrize(
    "head,body,expected",
    [("Content-Length: 2\r\nContent-Length: 2", b"{}", b"{}"),  # repeats that agree
     ("Content-Length: 0\r\nContent-Encoding: gzip", b"", b""),  # an empty gzip body
     ("Content-Length: 2\r\nX-Long: a\r\n b", b"{}", b"{}")],  # a folded header line
    ids=["repeated-length", "empty-gzip", "folded-header"],
)
def test_lenient_where_the_standard_allows(head: str, body: bytes, expected: bytes) -> None:
    raw = f"HTTP/1.1 200 OK\r\n{head}\r\n\r\n".encode() + body
    srv = keep_alive_server(lambda i: raw)
    (got,) = post(ConnectionPool(srv.url, timeout=5))
    assert got.body == expected


@pytest.mark.parametrize(
    "raw,needle",
    [(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"),
     (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n{}", "bad Content-Length"),
     (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\n", "bad chunk size")],
    ids=["negative-length", "conflicting-lengths", "negative-chunk"],
)
def test_malformed_framing_is_a_connection_failure(raw: bytes, needle: str) -> None:
    srv = keep_alive_server(lambda i: raw)
    with pytest.raises(ConnectionFailed, match=needle):
        post(ConnectionPool(srv.url, timeout=5))


def test_a_new_connection_closed_before_answering_fails_without_a_second_send() -> None:
    def hang_up(sock: socket.socket, n: int) -> None:
        srv.read_request(sock)

    srv = serve(hang_up)
    with pytest.raises(ConnectionFailed, match="closed the connection before answering"):
        post(ConnectionPool(srv.url, timeout=5))
    assert len(srv.requests) == 1  # nothing was reused, so nothing is sent twice


def test_refused_connection_and_garbage_are_connection_failures() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens once the block ends
    with pytest.raises(ConnectionFailed, match=f"cannot connect to 127.0.0.1:{port}"):
        post(ConnectionPool(f"http://127.0.0.1:{port}/v1", timeout=5))

    srv = keep_alive_server(lambda i: b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    with pytest.raises(ConnectionFailed, match="not an HTTP response"):
        post(ConnectionPool(srv.url, timeout=5))


def test_timeout_bounds_each_wait_for_data_not_the_whole_answer() -> None:
    def silent(sock: socket.socket, n: int) -> None:
        srv.read_request(sock)
        time.sleep(3)

    srv = serve(silent)
    t0 = time.perf_counter()
    with pytest.raises(TimeoutError, match="no data for 0.5 s"):
        post(ConnectionPool(srv.url, timeout=0.5))
    assert time.perf_counter() - t0 < 2.5

    def drip(sock: socket.socket, n: int) -> None:  # 1.2 s in all, never 0.5 s silent
        slow.read_request(sock)
        for piece in (b"HTTP/1.1 200 OK\r\n", b"Content-Length: 2\r\n\r\n", b"{", b"}"):
            time.sleep(0.3)
            sock.sendall(piece)

    slow = serve(drip)
    (got,) = post(ConnectionPool(slow.url, timeout=0.5))
    assert got.body == b"{}"


def test_cancelling_a_request_closes_its_connection() -> None:
    ended = threading.Event()

    def wait_for_end(sock: socket.socket, n: int) -> None:
        srv.read_request(sock)
        sock.settimeout(5)
        if sock.recv(1) == b"":
            ended.set()

    srv = serve(wait_for_end)
    pool = ConnectionPool(srv.url, timeout=30)

    async def go() -> None:
        task = asyncio.ensure_future(pool.post(b"{}", {}))
        while not srv.requests:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pool.idle == []

    asyncio.run(go())
    assert ended.wait(5), "the server never saw the connection end"


def test_header_values_with_line_breaks_are_refused() -> None:
    srv = keep_alive_server(lambda i: reply(b"{}"))
    with pytest.raises(ValueError, match="line break"):
        post(ConnectionPool(srv.url, timeout=5), headers={"Authorization": "Bearer a\r\nX: y"})
    assert srv.requests == []


def test_tls_with_a_trusted_certificate_and_refusal_of_an_untrusted_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    srv = keep_alive_server(lambda i: reply(b'{"tls": true}'), tls=True)
    monkeypatch.setattr(http_pool, "_tls", None)  # the context is made once per process
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "cert.pem"))
    got = post(ConnectionPool(srv.url, timeout=5), n=2)
    assert [r.body for r in got] == [b'{"tls": true}'] * 2 and srv.accepted == 1

    monkeypatch.setattr(http_pool, "_tls", None)
    monkeypatch.delenv("SSL_CERT_FILE")
    with pytest.raises(ConnectionFailed, match="self.signed certificate.*SSL_CERT_FILE"):
        post(ConnectionPool(srv.url, timeout=5))
    monkeypatch.setattr(http_pool, "_tls", None)


def test_the_benchmark_server_answers_the_adapter_at_its_latency() -> None:
    """``tests/fake_openai_server.py`` run standalone (the served-throughput benchmark's
    server): 40 requests at 20 in flight take two waves of its 0.3 s latency."""
    import subprocess
    import sys

    from eval_anything.core.requests import GenerateRequest, GenerationConfig
    from eval_anything.models.openai import OpenAIModel

    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "fake_openai_server.py"),
         "--latency", "0.3"], stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().split()[1]
        adapter = OpenAIModel(model="m", base_url=base_url, max_concurrency=20)
        reqs = [GenerateRequest.from_parts([_text(f"q{i}")], GenerationConfig(), None)
                for i in range(40)]
        t0 = time.perf_counter()
        outs = adapter.generate(reqs)
        took = time.perf_counter() - t0
        adapter.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert [o.text for o in outs] == [f"echo: q{i}" for i in range(40)]
    assert 0.6 <= took < 5.0


def _text(text: str):  # noqa: ANN202 - a content part
    from eval_anything.core.content import TextPart

    return TextPart(text=text)


def test_a_first_wave_shares_one_address_look_up_even_when_its_starter_is_cancelled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    srv = keep_alive_server(lambda i: reply(b"{}"))
    pool = ConnectionPool(f"http://localhost:{srv.port}/v1/chat/completions", timeout=10)
    looked_up: list[str] = []
    real = ConnectionPool._look_up

    async def slow_lookup(self: ConnectionPool, loop: asyncio.AbstractEventLoop) -> list:
        looked_up.append(self.host)
        await asyncio.sleep(0.2)  # long enough for the whole wave to be waiting on it
        return [a for a in await real(self, loop) if a[0] == socket.AF_INET]

    monkeypatch.setattr(ConnectionPool, "_look_up", slow_lookup)

    async def go() -> list:
        first = asyncio.ensure_future(pool.post(b"{}", {}))  # starts the look-up
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(pool.post(b"{}", {})) for _ in range(30)]
        first.cancel()  # the look-up it started goes on for the others
        try:
            return await asyncio.gather(*rest)
        finally:
            pool.close()

    answers = asyncio.run(go())
    assert [a.status for a in answers] == [200] * 30
    assert looked_up == ["localhost"]


def test_the_adapter_loop_is_uvloop_where_installed_unless_asked_for_asyncio(
    monkeypatch: pytest.MonkeyPatch, event_loop_kind: str
) -> None:
    from eval_anything.models.openai_http import new_event_loop

    if event_loop_kind == "asyncio":
        monkeypatch.setenv("EVAL_ANYTHING_EVENT_LOOP", "asyncio")
    loop = new_event_loop()
    try:
        expected = "uvloop" if event_loop_kind == "uvloop" else "asyncio"
        assert type(loop).__module__.split(".")[0] == expected
    finally:
        loop.close()
