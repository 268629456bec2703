"""The proxy a served model's requests go through, read from the environment as curl reads it.

- ``http_proxy`` / ``HTTP_PROXY`` for ``http://`` URLs, ``https_proxy`` / ``HTTPS_PROXY`` for
  ``https://`` ones (lower case first), and ``all_proxy`` / ``ALL_PROXY`` for either when the
  scheme's own variable is unset; an empty value means "none";
- ``no_proxy`` / ``NO_PROXY``: comma-separated hosts reached directly: ``*`` for all, a name
  matches itself and its subdomains (a leading dot is ignored), ``host:port`` that port only,
  and an address range in CIDR form (``10.0.0.0/8``) every address literal inside it;
- a proxy written without a scheme is ``http://``; its ``user:password@`` is sent as
  ``Proxy-Authorization`` (and the password redacted from every message); a SOCKS proxy is
  refused when the adapter is built, since the HTTP client (aiohttp) speaks only to HTTP
  proxies.

The variables are read by the standard library (:func:`urllib.request.getproxies_environment`,
which also keeps curl's rule that a CGI script ignores ``HTTP_PROXY``) and matched by its
``urllib.request.proxy_bypass_environment``; what this module adds is what aiohttp's own
``trust_env`` leaves out and curl does: ``ALL_PROXY`` and CIDR ranges in ``NO_PROXY``. The
decision is made once per origin and adapter, not per request (``trust_env`` looks the
environment and ``~/.netrc`` up in executor threads for every request, and sends ``.netrc``
credentials to the model server, which curl does only when asked).
"""

from __future__ import annotations

import ipaddress
import urllib.request
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit
from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]

from eval_anything.errors import ConfigError
from eval_anything.redact import register_secret


@dataclass(frozen=True)
class Proxy:
    """An HTTP proxy: its URL for the client (credentials included, never printed), the same
    without credentials for messages, and the variable it came from."""

    url: str
    shown: str
    variable: str


def environment_proxies() -> dict[str, str]:
    """Scheme (``http``, ``https``, ``all``, ``no``) -> value, from the environment now."""
    return urllib.request.getproxies_environment()


def proxy_for(url: str, proxies: dict[str, str]) -> Proxy | None:
    """The proxy ``url`` goes through under ``proxies`` (see :func:`environment_proxies`), or
    None for a direct connection. :class:`ConfigError` for a proxy aiohttp cannot use."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if bypassed(host, port, proxies.get("no", "")):
        return None
    scheme = parts.scheme.lower()
    for key in (scheme, "all"):
        if proxies.get(key):
            return _parse(proxies[key], f"{key}_proxy")
    return None


def bypassed(host: str, port: int, no_proxy: str) -> bool:
    """Whether ``NO_PROXY``'s value ``no_proxy`` sends ``host`` (at ``port``) direct."""
    if not no_proxy.strip():
        return False
    literal = f"[{host}]" if ":" in host else host  # the standard library splits host:port
    if proxy_bypass_environment(f"{literal}:{port}", {"no": no_proxy}):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    for entry in no_proxy.split(","):
        entry = entry.strip()
        try:
            if entry and address == ipaddress.ip_address(entry.strip("[]")):
                return True
        except ValueError:
            pass
        if "/" in entry:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def _parse(value: str, variable: str) -> Proxy:
    raw = value.strip()
    if "://" not in raw:
        raw = f"http://{raw}"  # curl's reading of "proxy:3128"
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    shown = f"{scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"
    if scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{variable.upper()}={shown}: the openai adapter reaches servers through HTTP "
            "proxies only (http:// or https://); point the variable at an HTTP proxy, or add "
            "the server's host to NO_PROXY"
        )
    register_secret(parts.password)
    register_secret(unquote(parts.password or ""))
    return Proxy(url=raw, shown=shown, variable=variable.upper())
