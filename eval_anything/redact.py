"""One redaction for every line we print or store: configured key values and ``Authorization``
headers become ``***``.

Adapters that read a secret (an API key from the environment) register its value with
:func:`register_secret`; from then on :func:`redact` removes it from any text, and every log
record and warning of this process is redacted on its way out (installed on the first
registration, so importing this module changes nothing). The run folder writers, the response
cache, the store ingest and the CLI's error line call :func:`redact` themselves, so a server that
echoes the key back in an error body, or even in an answer, cannot get it into a file or onto a
terminal.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from typing import Any

MASK = "***"
# at least this long: shorter "secrets" (a test's "x") would shred ordinary text
MIN_SECRET_LEN = 6

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False

# "Authorization: Bearer abc", '"authorization": "Basic abc"', "Bearer abc" on their own
_AUTH = re.compile(
    r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?:(bearer|basic|token)\s+)?[^\s\"',;}]+"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}")


def register_secret(value: str | None) -> None:
    """Redact ``value`` from all output of this process from now on."""
    if not value or len(value) < MIN_SECRET_LEN:
        return
    with _lock:
        _secrets.add(value)
    _install()


def redact(text: str) -> str:
    """``text`` with every registered secret and every Authorization header value masked."""
    if not text:
        return text
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    has_auth, has_bearer = _may_match(text)
    if has_auth:
        text = _AUTH.sub(
            lambda m: m.group(1) + (f"{m.group(2)} " if m.group(2) else "") + MASK, text
        )
    if has_bearer:
        text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    return text


def _may_match(text: str) -> tuple[bool, bool]:
    """Whether ``text`` may hold a match of ``_AUTH`` / ``_BEARER``: a substring test on the
    lowered text, about 25 times cheaper than letting the case-insensitive patterns scan a
    sample log's lines (the scan was 6 % of a served run's CPU). The dotted and dotless capital
    I match ``i`` under ``(?i)`` but lower to something else, so they are folded first."""
    low = text.lower()
    if "\u0131" in low or "\u0307" in low:
        low = low.replace("i\u0307", "i").replace("\u0131", "i")
    return "authorization" in low, "bearer" in low


def redact_obj(value: Any) -> Any:
    """Strings inside dicts and lists redacted (for records before they are serialized)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_obj(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_obj(v) for v in value]
    return value


def _install() -> None:
    """Redact every log record and warning of this process (once)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    make_record = logging.getLogRecordFactory()

    def redacting_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            record.msg = redact(record.getMessage())
            record.args = None
        except Exception:  # noqa: BLE001 - a record that cannot format must still be logged
            record.msg = redact(str(record.msg))
        return record

    logging.setLogRecordFactory(redacting_record)
    format_warning = warnings.formatwarning

    def redacting_format(*args: Any, **kwargs: Any) -> str:
        return redact(format_warning(*args, **kwargs))

    warnings.formatwarning = redacting_format  # type: ignore[assignment]
