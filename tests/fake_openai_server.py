"""A real HTTP server on 127.0.0.1 that speaks ``POST /v1/chat/completions``: the peer the
``openai`` adapter is tested against, so the tests cross a real socket, real JSON and real HTTP
status codes and headers instead of a mocked client.

It answers from a table (last user text -> answer; default ``echo: <text>``), records every
request it received (headers and JSON body), counts requests in flight at once, and replays
planned failures per prompt (``plan(text, Step(status=429, headers=...), ...)``): each attempt
with that prompt consumes the next step, and once the plan is used up the prompt is answered.

Fixed-latency mode (``latency=0.2``): every reply leaves the server 0.2 s after its request
arrived, however many are in flight, like a server whose capacity is never the limit; the
throughput benchmark measures clients against it. Run standalone (a process of its own, so it
shares no interpreter lock with the client measured; an asyncio server, cheap enough per
request that hundreds in flight do not delay it):

    python tests/fake_openai_server.py --latency 0.2 --answer "Rating: [[7]]"

prints ``BASE_URL http://127.0.0.1:PORT/v1`` and serves until killed.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"


@dataclass
class Step:
    """One planned reply: an HTTP error (``status``/``headers``/``message``), or ``hang``
    seconds of silence before answering normally (for client timeouts)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "planned failure"
    hang: float = 0.0


def last_user_text(body: dict[str, Any]) -> str:
    """Text of the last user message, whether sent as a string or as content parts."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    if not users:
        return ""
    content = users[-1].get("content")
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content or [] if p.get("type") == "text")


def words_in(body: dict[str, Any]) -> int:
    n = 0
    for m in body.get("messages", []):
        c = m.get("content")
        texts = [c] if isinstance(c, str) else [p.get("text", "") for p in c or []]
        n += sum(len(t.split()) for t in texts)
    return n


class FakeOpenAIServer:
    """Start with ``with FakeOpenAIServer() as srv:``; ``srv.base_url`` ends in ``/v1``."""

    def __init__(
        self,
        answers: dict[str, str] | None = None,
        delay: float = 0.0,
        hold_first: int = 0,
        hold_timeout: float = 5.0,
        required_key: str | None = None,
        latency: float = 0.0,
        default_answer: str | None = None,
    ) -> None:
        self.answers = dict(answers or {})
        self.delay = delay
        self.latency = latency
        self.default_answer = default_answer
        self.hold_first = hold_first
        self.hold_timeout = hold_timeout
        self.required_key = required_key
        self.port = 0
        self.received: list[dict[str, Any]] = []
        self.attempts: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._plans: dict[str, list[Step]] = {}
        self._arrived = 0
        self._released = False
        self._cond = threading.Condition()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- control

    def plan(self, prompt: str, *steps: Step) -> None:
        with self._cond:
            self._plans.setdefault(prompt, []).extend(steps)

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAIServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = _Server(("127.0.0.1", self.port), handler)  # port 0: a free port
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -------------------------------------------------------------- request handling

    def handle(self, headers: dict[str, str], body: dict[str, Any]) -> tuple[Step, dict | None]:
        """Record the request, wait as planned, and decide the reply."""
        arrived = time.perf_counter()
        prompt = last_user_text(body)
        with self._cond:
            self.received.append({"headers": headers, "body": body})
            self.attempts[prompt] += 1
            plan = self._plans.get(prompt)
            step = plan.pop(0) if plan else Step()
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._arrived += 1
            held = self._arrived <= self.hold_first
            if self.in_flight >= self.hold_first:
                self._released = True  # the first to wake must not see in_flight drop again
            self._cond.notify_all()
        try:
            if held:  # the first N requests wait until N are in flight together
                with self._cond:
                    self._cond.wait_for(lambda: self._released, timeout=self.hold_timeout)
            time.sleep(self.delay + step.hang)
            if self.latency:  # the reply leaves `latency` after the request arrived
                time.sleep(max(0.0, arrived + self.latency - time.perf_counter()))
            if self.required_key and headers.get("authorization") != f"Bearer {self.required_key}":
                return Step(status=401, message="Incorrect API key provided"), None
            if step.status != 200:
                return step, None
            return step, self.completion(body, prompt)
        finally:
            with self._cond:
                self.in_flight -= 1
                self._cond.notify_all()

    def completion(self, body: dict[str, Any], prompt: str) -> dict[str, Any]:
        answer = self.answers.get(prompt, self.default_answer or f"echo: {prompt}")
        return completion_body(body, answer, len(self.received))


def completion_body(body: dict[str, Any], answer: str, n: int) -> dict[str, Any]:
    """A chat completion answering ``answer`` to the request ``body`` (the ``n``-th)."""
    words = words_in(body)
    return {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": words,
            "completion_tokens": len(answer.split()),
            "total_tokens": words + len(answer.split()),
        },
    }


class _Server(ThreadingHTTPServer):
    # the standard backlog (5) drops connections when hundreds open at once, and a dropped
    # SYN costs the client a one-second retransmit: real servers listen with a long queue
    request_queue_size = 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    # headers and body leave in two writes: with Nagle on, the body waits for the client's
    # delayed ACK of the headers (40 ms on Linux), a stall no real server has
    disable_nagle_algorithm = True
    fake: FakeOpenAIServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # keep test output clean

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != CHAT_PATH:
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            self._send(400, {"error": {"message": "body is not JSON"}})
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        step, reply = self.fake.handle(headers, body)
        if reply is None:
            err = {"error": {"message": step.message, "type": "fake", "code": step.status}}
            self._send(step.status, err, step.headers)
        else:
            self._send(200, reply)

    def _send(self, status: int, data: dict, headers: dict[str, str] | None = None) -> None:
        out = json.dumps(data).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(out)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer


async def serve_fixed_latency(latency: float, answer: str | None, port: int = 0) -> None:
    """The standalone server: one asyncio event loop, each reply leaving ``latency`` seconds
    after its request arrived, until SIGTERM or SIGINT.

    A bare asyncio protocol, not the threaded :class:`FakeOpenAIServer` nor a web framework:
    each request must cost the server far less than the clients measured (hundreds arrive in
    one wave), so the benchmark measures the client, not the server; it reads HTTP/1.1 requests
    framed by ``Content-Length`` on keep-alive connections (what the clients measured send) for
    about 0.05 ms each. Requests are not recorded (a long benchmark would keep every body)."""
    import asyncio

    loop = asyncio.get_running_loop()
    count = 0

    class Conn(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self.transport, self.buffer = transport, bytearray()

        def data_received(self, data: bytes) -> None:
            arrived = loop.time()
            self.buffer += data
            while True:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
                length = 0
                for line in head[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if len(self.buffer) < end + 4 + length:
                    return
                raw = bytes(self.buffer[end + 4 : end + 4 + length])
                del self.buffer[: end + 4 + length]
                loop.call_at(arrived + latency, self.reply, head[0], raw)

        def reply(self, request_line: str, raw: bytes) -> None:
            nonlocal count
            status, data = 200, None
            if request_line.split(" ")[1:2] != [CHAT_PATH]:
                status, data = 404, {"error": {"message": f"no route {request_line!r}"}}
            else:
                try:
                    body = json.loads(raw)
                except ValueError:
                    status, data = 400, {"error": {"message": "body is not JSON"}}
                else:
                    count += 1
                    data = completion_body(body, answer or f"echo: {last_user_text(body)}", count)
            out = json.dumps(data).encode()
            head = (f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(out)}\r\n\r\n")
            if not self.transport.is_closing():
                self.transport.write(head.encode() + out)

    sock = socket.create_server(("127.0.0.1", port))  # port 0: a free one, known before serving
    # a long accept queue: hundreds of connections open at once (see _Server)
    server = await loop.create_server(Conn, sock=sock, backlog=1024)
    print(f"BASE_URL http://127.0.0.1:{sock.getsockname()[1]}/v1", flush=True)
    done = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    await done.wait()
    server.close()


def main(argv: list[str] | None = None) -> None:
    """Serve in the foreground (see the module doc) until SIGTERM or Ctrl-C."""
    import asyncio

    ap = argparse.ArgumentParser(description="A fixed-latency OpenAI-compatible chat server.")
    ap.add_argument("--latency", type=float, default=0.2, help="seconds per reply")
    ap.add_argument("--answer", default=None, help="answer to every prompt (default: echo)")
    ap.add_argument("--port", type=int, default=0, help="0: a free port")
    args = ap.parse_args(argv)
    asyncio.run(serve_fixed_latency(args.latency, args.answer, args.port))
    sys.exit(0)


if __name__ == "__main__":
    main()
