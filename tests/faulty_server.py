"""A hostile OpenAI-compatible server on 127.0.0.1 for error-path tests.

Its ``mode`` decides every reply until changed: ``ok`` answers ``echo: <prompt>``; ``status``
sends ``status`` with a body that echoes the request's ``Authorization`` header (the leak a
careless client would print) and an optional ``Retry-After``; ``malformed`` sends a 200 whose
body is not JSON; ``drop`` closes the socket without a reply; ``hang`` stays silent longer than
any client timeout in the tests. ``prompts`` counts the requests per prompt, so a test can check
that a rerun sends exactly the failed ones.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FaultyServer:
    def __init__(self, mode: str = "ok", status: int = 500, retry_after: str | None = None):
        self.mode = mode
        self.status = status
        self.retry_after = retry_after
        self.prompts: Counter[str] = Counter()
        self.fail_only: set[str] | None = None  # when set, only these prompts meet the mode
        self._httpd: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FaultyServer:
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def count(self, prompt: str) -> None:
        with self._lock:
            self.prompts[prompt] += 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: FaultyServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        state = self.server_state
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        users = [m for m in body.get("messages", []) if m.get("role") == "user"]
        content = users[-1]["content"] if users else ""
        prompt = content if isinstance(content, str) else " ".join(
            p.get("text", "") for p in content if p.get("type") == "text"
        )
        state.count(prompt)
        auth = self.headers.get("Authorization", "")
        mode = state.mode if state.fail_only is None or prompt in state.fail_only else "ok"
        if mode == "drop":
            self.close_connection = True
            self.connection.close()
            return
        if mode == "hang":
            time.sleep(3.0)
        if mode == "malformed":
            self._send(200, b"<html>upstream proxy error</html>", "text/html")
        elif mode == "status":
            err = {"error": {"message": f"internal error; your header was {auth}", "key": auth}}
            extra = {"Retry-After": state.retry_after} if state.retry_after else {}
            self._send(state.status, json.dumps(err).encode(), headers=extra)
        else:
            reply = {"choices": [{"index": 0, "message": {"role": "assistant",
                                                        "content": f"echo: {prompt}"}}]}
            self._send(200, json.dumps(reply).encode())

    def _send(
        self, status: int, data: bytes, ctype: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
