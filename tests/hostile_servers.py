"""Real servers on 127.0.0.1 that misbehave the way a broken or hostile peer does, for the served
adapter's tests (tests/test_served_hostile.py):

- :class:`HostileServer` answers every request with one behaviour: ``ok`` (a small completion,
  ``gzip``-encoded with ``ok_gzip``), ``endless_chunked`` (a
  chunked body that never ends), ``endless_unframed`` (a body with no length that never ends),
  ``gzip_bomb`` (a gzip body of a few MB that inflates to hundreds), ``trickle`` (one byte every
  ``interval`` seconds of a long body) or ``redirect`` (``status``, 307 by default, to
  ``location``);
- :class:`ForwardProxy`, a plain HTTP forward proxy that counts the requests it forwards.

Each records the request lines and bodies it received."""

from __future__ import annotations

import functools
import gzip
import http.client
import socket
import ssl
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

CHUNK = b"x" * 65536


@functools.cache
def gzip_bomb(inflated_mib: int = 400) -> bytes:
    """A gzip stream of ``inflated_mib`` MiB of zeros: about 1.8 MB for 400 MiB."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    return b"".join([packer.compress(block) for _ in range(inflated_mib)] + [packer.flush()])


class HostileServer:
    """``with HostileServer("trickle", interval=0.5) as srv:``; ``srv.base_url`` ends in /v1."""

    def __init__(
        self, behaviour: str, location: str = "", interval: float = 0.5,
        tls: ssl.SSLContext | None = None, status: int = 307,
    ) -> None:
        self.behaviour = behaviour
        self.location = location
        self.status = status
        self.interval = interval
        self.tls = tls
        self.requests: list[tuple[str, bytes]] = []  # (request line, body)
        self.connections = 0
        self.hung_up = threading.Event()  # a connection ended while its answer was being sent
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.bomb = gzip_bomb() if behaviour == "gzip_bomb" else b""

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> HostileServer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            with sock:
                while not self._stop.is_set():
                    request = _read_request(sock)
                    if request is None:
                        return
                    self.requests.append(request)
                    if not self._answer(sock):
                        return
        except OSError:  # the client hung up (or refused the certificate), as it should
            self.hung_up.set()

    def _answer(self, sock: socket.socket) -> bool:
        """Send this server's answer; whether the connection may carry another request."""
        kind = self.behaviour
        if kind in ("ok", "ok_gzip"):
            body = b'{"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]}'
            coding = b""
            if kind == "ok_gzip":
                body, coding = gzip.compress(body), b"Content-Encoding: gzip\r\n"
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + coding
                         + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            return True
        if kind == "redirect":
            sock.sendall(
                f"HTTP/1.1 {self.status} Redirect\r\nLocation: {self.location}\r\n"
                "Content-Length: 0\r\n\r\n".encode()
            )
            return True
        if kind == "gzip_bomb":
            sock.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                + f"Content-Length: {len(self.bomb)}\r\n\r\n".encode() + self.bomb
            )
            return True
        if kind == "trickle":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100000\r\n\r\n")
            while not self._stop.is_set():
                sock.sendall(b" ")
                time.sleep(self.interval)
            return False
        framing = b"Transfer-Encoding: chunked" if kind == "endless_chunked" else (
            b"Connection: close"
        )
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + framing
                     + b"\r\n\r\n")
        piece = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK) if kind == "endless_chunked" else CHUNK
        while not self._stop.is_set():
            sock.sendall(piece)
        return False


def _read_request(sock: socket.socket) -> tuple[str, bytes] | None:
    """(request line, body) of one request framed by Content-Length, or None at the end."""
    data = b""
    while b"\r\n\r\n" not in data:
        got = sock.recv(65536)
        if not got:
            return None
        data += got
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    while len(body) < length:
        got = sock.recv(65536)
        if not got:
            return None
        body += got
    return lines[0], body


class ForwardProxy:
    """A forward proxy for ``http://`` URLs: takes absolute-form requests
    (``POST http://host:port/path HTTP/1.1``), sends each on to its server and relays the
    answer. ``forwarded`` lists the URLs it forwarded."""

    def __init__(self) -> None:
        self.forwarded: list[str] = []
        self.credentials: list[str] = []  # the Proxy-Authorization headers received
        handler = type("Handler", (_ProxyHandler,), {"proxy": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> ForwardProxy:
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization",
               "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: ForwardProxy

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = urlsplit(self.path)
        if target.scheme != "http" or not target.hostname:
            self._relay(400, [], b"absolute http:// URL expected")
            return
        self.proxy.forwarded.append(self.path)
        self.proxy.credentials.append(self.headers.get("Proxy-Authorization", ""))
        upstream = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            path = target.path + (f"?{target.query}" if target.query else "")
            upstream.request("POST", path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
            self._relay(answer.status, kept, data)
        finally:
            upstream.close()

    def _relay(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
