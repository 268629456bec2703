"""Checks of the model args every served adapter shares (the ``openai`` chat adapter and the
image and speech generators of :mod:`eval_anything.models.openai_generators`): each refusal names
the adapter, the argument and the value to use instead, before anything is sent."""

from __future__ import annotations

import json
from typing import Any

DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024


def check_transport(
    adapter: str,
    *,
    model: str | None,
    base_url: str,
    max_concurrency: int,
    max_retries: int,
    timeout: float,
    request_deadline: float,
    max_response_bytes: int,
    api_key: Any,
) -> None:
    """Refuse the arguments no request could be sent with."""
    if api_key is not None:
        raise ValueError(
            "--model-args: 'api_key' is not accepted (it would end up in shell history and "
            "logs); export the key in an environment variable and pass its name with "
            "api_key_env=NAME (default OPENAI_API_KEY)"
        )
    if not model:
        raise ValueError(
            f"--model-args for {adapter!r}: 'model' is required, the name the server serves "
            "(e.g. model=Qwen/Qwen2.5-7B-Instruct; see GET {base_url}/models)"
        )
    if not str(base_url).startswith(("http://", "https://")):
        raise ValueError(
            f"--model-args for {adapter!r}: base_url={base_url!r} must start with http:// or "
            "https:// (e.g. base_url=http://localhost:8000/v1)"
        )
    if max_concurrency < 1 or max_retries < 0:
        raise ValueError(
            f"--model-args for {adapter!r}: need max_concurrency >= 1 and max_retries >= 0"
        )
    if not (timeout > 0 and request_deadline > 0 and max_response_bytes > 0):
        raise ValueError(
            f"--model-args for {adapter!r}: timeout, request_deadline and max_response_bytes "
            f"must be > 0 (got {timeout:g}, {request_deadline:g}, {max_response_bytes}); "
            f"the defaults are 300, 600 and {DEFAULT_MAX_RESPONSE_BYTES}"
        )


def parse_extra_body(extra: dict[str, Any] | str | None, adapter: str = "openai") -> dict[str, Any]:
    """Extra JSON fields for every request; ``--model-args`` gives them as a JSON string."""
    if extra is None:
        return {}
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except json.JSONDecodeError as e:
            raise ValueError(
                f"--model-args for {adapter!r}: extra_body is not valid JSON ({e}); write e.g. "
                'extra_body={"top_k":20}'
            ) from None
    if not isinstance(extra, dict):
        raise ValueError(f"--model-args for {adapter!r}: extra_body must be a JSON object")
    return dict(extra)
