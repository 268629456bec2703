"""A real HTTP server on 127.0.0.1 with the OpenAI media routes the served generators and the
chat adapter's audio answers are tested against: ``/v1/images/generations`` (a PNG drawn with
PIL, its colour taken from the prompt, as base64 JSON), ``/v1/audio/speech`` (a WAV written
with soundfile, its pitch taken from the input) and ``/v1/chat/completions`` (text, plus a
base64 WAV and its transcript when the request asks for audio).

It records every request (path, headers, JSON body) and counts attempts per prompt; planned
failures: ``fail_first=N`` answers each prompt's first N attempts with a 500, ``fail_prompts``
(substrings) answers those prompts 500 every time; ``garbage`` answers 200 with bytes that are
not the medium (an image that does not decode, JSON where audio belongs); ``echo_key`` puts the
request's Authorization header into the error message (to test that the client redacts it).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import soundfile as sf
from PIL import Image

SAMPLE_RATE = 16000


def png_for(prompt: str, size: str) -> bytes:
    width, _, height = size.partition("x")
    digest = hashlib.sha256(prompt.encode()).digest()
    img = Image.new("RGB", (int(width or 32), int(height or 32)), tuple(digest[:3]))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def wav_for(text: str, seconds: float = 0.25) -> bytes:
    pitch = 200 + hashlib.sha256(text.encode()).digest()[0] * 4
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(2 * np.pi * pitch * t)).astype(np.float32), SAMPLE_RATE,
             format="WAV", subtype="PCM_16")
    return buf.getvalue()


def prompt_of(path: str, body: dict[str, Any]) -> str:
    """The text a request renders: the image prompt, the speech input, the last user turn."""
    if path.endswith("/images/generations"):
        return str(body.get("prompt", ""))
    if path.endswith("/audio/speech"):
        return str(body.get("input", ""))
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    content = users[-1].get("content") if users else ""
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text", "") for p in content or [] if p.get("type") == "text")


class MediaServer:
    """``with MediaServer() as srv:``; ``srv.base_url`` ends in ``/v1``."""

    def __init__(
        self,
        fail_first: int = 0,
        fail_prompts: tuple[str, ...] = (),
        echo_key: bool = False,
        garbage: bool = False,
        port: int = 0,
    ) -> None:
        self.port = port  # 0: any free port
        self.garbage = garbage
        self.fail_first = fail_first
        self.fail_prompts = fail_prompts
        self.echo_key = echo_key
        self.received: list[dict[str, Any]] = []
        self.attempts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def bodies(self, route: str) -> list[dict[str, Any]]:
        return [r["body"] for r in self.received if r["path"].endswith(route)]

    def __enter__(self) -> MediaServer:
        handler = type("Handler", (_Handler,), {"server_state": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    def reply(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[
        int, str, bytes
    ]:
        """(status, content type, body) for one request."""
        prompt = prompt_of(path, body)
        with self._lock:
            self.received.append({"path": path, "headers": headers, "body": body})
            self.attempts[prompt] += 1
            attempt = self.attempts[prompt]
        if attempt <= self.fail_first or any(p in prompt for p in self.fail_prompts):
            message = "overloaded"
            if self.echo_key:
                message += f" (you sent {headers.get('authorization', '')})"
            return 500, "application/json", json.dumps({"error": {"message": message}}).encode()
        if self.garbage:
            junk = base64.b64encode(b"not media at all").decode()
            if path.endswith("/audio/speech"):
                return 200, "application/json", b'{"status": "queued"}'
            return 200, "application/json", json.dumps({
                "data": [{"b64_json": junk}],
                "choices": [{"message": {"content": None, "audio": {"data": junk}}}],
            }).encode()
        if path.endswith("/images/generations"):
            b64 = base64.b64encode(png_for(prompt, str(body.get("size", "32x32")))).decode()
            data = {"created": 0, "data": [{"b64_json": b64, "revised_prompt": prompt[:40]}]}
            return 200, "application/json", json.dumps(data).encode()
        if path.endswith("/audio/speech"):
            return 200, "audio/wav", wav_for(prompt)
        if path.endswith("/chat/completions"):
            message: dict[str, Any] = {"role": "assistant", "content": f"echo: {prompt}"}
            if "audio" in (body.get("modalities") or []):
                wav = base64.b64encode(wav_for(prompt)).decode()
                message = {"role": "assistant", "content": None,
                           "audio": {"id": "a1", "data": wav, "transcript": f"said: {prompt}",
                                     "expires_at": 0}}
            data = {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 5}}
            return 200, "application/json", json.dumps(data).encode()
        return 404, "application/json", b'{"error": {"message": "no such route"}}'


class _Handler(BaseHTTPRequestHandler):
    server_state: MediaServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet test output
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, kind, out = self.server_state.reply(self.path, headers, json.loads(raw or b"{}"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def main() -> None:
    """Serve until killed (a local stand-in for the docs' commands): prints the base URL."""
    import argparse
    import time

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    with MediaServer(port=parser.parse_args().port) as srv:
        print(f"BASE_URL {srv.base_url}", flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
