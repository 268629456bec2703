"""Reading an HTTP/1.1 response from the bytes received so far, for the connection pool of the
``openai`` adapter (:mod:`eval_anything.models.http_pool`): the status line and headers, bodies
framed by ``Content-Length``, chunked or by the end of the connection, ``gzip`` and ``deflate``
decoded, interim ``1xx`` answers skipped, ``204``/``304`` without a body."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
MAX_HEAD = 64 * 1024  # bytes of status line and headers before the answer is refused


class ConnectionFailed(Exception):
    """The request could not be sent or its answer not read (the message says why)."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes


def parse_response(buffer: bytearray, eof: bool) -> tuple[Response, bool] | None:
    """The complete answer at the start of ``buffer`` (which it removes from there) and whether
    the connection may carry another request, or None while more is to come; ``eof``: the
    server has finished sending. :class:`ConnectionFailed` when the answer cannot be read."""
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_HEAD:
                raise ConnectionFailed(f"response head over {MAX_HEAD} bytes")
            return None
        status, version, headers = _parse_head(bytes(buffer[:end]))
        if 100 <= status < 200:  # interim answers (100 Continue, 103 Early Hints)
            del buffer[: end + 4]
            continue
        break
    start = end + 4
    coding = headers.get("transfer-encoding", "").lower()
    framed = True  # the body's end is known without the connection's end
    if status in (204, 304):  # never a body, whatever the headers say
        body, used = b"", start
    elif "chunked" in coding:
        parsed = _dechunk(buffer, start)
        if parsed is None:
            if eof:
                raise ConnectionFailed("the server closed the connection mid-body")
            return None
        body, used = parsed
    elif "content-length" in headers:
        values = {v.strip() for v in headers["content-length"].split(",")}
        if len(values) != 1 or not next(iter(values)).isdigit():  # repeats must agree
            raise ConnectionFailed(f"bad Content-Length {headers['content-length']!r}")
        length = int(values.pop())
        if len(buffer) - start < length:
            if eof:
                raise ConnectionFailed("the server closed the connection mid-body")
            return None
        body, used = bytes(buffer[start : start + length]), start + length
    else:  # framed by the end of the connection
        if not eof:
            return None
        framed = False
        body, used = bytes(buffer[start:]), len(buffer)
    del buffer[:used]
    connection = headers.get("connection", "").lower()
    keep_alive = framed and not (
        "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
    )
    encoding = headers.get("content-encoding", "").lower().strip()
    if not body:
        pass  # nothing to decode (an empty gzip body is not a gzip stream)
    elif encoding in ("gzip", "x-gzip", "deflate"):
        body = _decode(body, encoding)
    elif encoding not in ("", "identity"):
        raise ConnectionFailed(f"unsupported Content-Encoding {encoding!r}")
    return Response(status, headers, body), keep_alive


def _parse_head(raw: bytes) -> tuple[int, str, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    fields = lines[0].split(" ", 2)
    if len(fields) < 2 or not fields[0].startswith("HTTP/") or not fields[1].isdigit():
        raise ConnectionFailed(f"not an HTTP response: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    key = ""
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and key:  # an obsolete folded continuation line
            headers[key] = f"{headers[key]} {line.strip()}"
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ConnectionFailed(f"malformed response header {line[:80]!r}")
        key, value = name.strip().lower(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return int(fields[1]), fields[0], headers


def _dechunk(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    """(body, bytes used up to the end of the trailer), or None when incomplete."""
    body = bytearray()
    pos = start
    while True:
        eol = buffer.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_field = bytes(buffer[pos:eol]).split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_field):
            raise ConnectionFailed(f"bad chunk size {size_field[:20]!r}")
        size = int(size_field, 16)
        pos = eol + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", pos - 2)
            if trailer_end < 0:
                return None
            return bytes(body), trailer_end + 4
        if len(buffer) < pos + size + 2:
            return None
        body += buffer[pos : pos + size]
        pos += size + 2  # the chunk's own CRLF


def _decode(body: bytes, encoding: str) -> bytes:
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        try:
            return zlib.decompress(body)  # deflate as zlib-wrapped, as the standard says
        except zlib.error:
            return zlib.decompress(body, -zlib.MAX_WBITS)  # raw deflate, as some servers send
    except zlib.error as e:
        raise ConnectionFailed(f"cannot decode the {encoding} body: {e}") from None
