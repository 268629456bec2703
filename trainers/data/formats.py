"""``data.format``: which layout a row is in, and how rows of each layout become examples.

Accepted rows (``data.format: auto`` tells them apart by their fields):

- ``preference``: TRL's own ``prompt, chosen, rejected`` (strings or chat messages);
- ``align_anything``: ``prompt, response_0, response_1, better_response_id`` (0 or 1; the
  PKU-SafeRLHF layout, text-to-text);
- ``align_anything_mm``: ``question|prompt, response_1, response_2, overall_response`` (1 or 2)
  with ``image``, ``audio_path``/``audio`` or ``video_path``/``video`` and the fine-grained
  ratings (``p_response``, ``o_*``, ``c_*``, ``i_*``...), kept in the pair's metadata;
- ``feedback``: ``prompt, response, refinement`` (``critique`` optional), the refinement being
  the better answer;
- ``critique``: ``prompt, response, critique`` (for ``train critic``);
- ``sft``: ``prompt`` with ``completion`` or ``response``;  ``messages``: a chat;
- ``sample``: our Sample rows (``id, input, target``), the target being the completion.

Any layout may carry media (read by :mod:`eval_anything.trainers.data.layouts`); they stay on
the example. Never a text-only fallback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval_anything.errors import ConfigError
from eval_anything.trainers.data.examples import Completion, Pair
from eval_anything.trainers.data.layouts import (
    MediaRef,
    indexed_choice,
    metadata_of,
    prompt_of,
    row_media,
)

PREFERENCE_FORMATS = ("preference", "align_anything", "align_anything_mm", "feedback")
SFT_FORMATS = ("sft", "messages", "sample", "feedback", "preference", "align_anything",
               "align_anything_mm")


def detect_format(row: dict[str, Any], where: str) -> str:
    keys = set(row)
    if {"prompt", "chosen", "rejected"} <= keys:
        return "preference"
    if {"response_0", "response_1"} <= keys:
        return "align_anything"
    if {"response_1", "response_2"} <= keys:
        return "align_anything_mm"
    if {"prompt", "response", "refinement"} <= keys:
        return "feedback"
    if {"prompt", "response", "critique"} <= keys:
        return "critique"
    if "messages" in keys:
        return "messages"
    if {"id", "input"} <= keys:
        return "sample"
    if "prompt" in keys and ({"completion", "response"} & keys):
        return "sft"
    if {"better_image", "worse_image"} <= keys or {"jpg_0", "jpg_1"} <= keys:
        raise ConfigError(
            f"{where}: text-to-image preference rows (a prompt with a preferred and a rejected "
            "image) train only with 'train dpo', on a model that draws (Janus, Janus-Pro)"
        )
    raise ConfigError(
        f"{where}: row fields {sorted(keys)} match no known format; expected one of "
        "(prompt, chosen, rejected), (prompt, response_0, response_1, better_response_id), "
        "(question|prompt, image|audio_path|video_path, response_1, response_2, "
        "overall_response), (prompt, response, refinement), (prompt, response, critique), "
        "(prompt, completion), messages, or Sample rows (id, input, target); or set data.format"
    )


def resolve_format(rows: list[dict[str, Any]], fmt: str, where: str) -> str:
    return detect_format(rows[0], where) if fmt == "auto" else fmt


def _field(row: dict[str, Any], name: str, where: str, i: int) -> Any:
    if name not in row:
        raise ConfigError(f"{where}: row {i}: field {name!r} is missing")
    return row[name]


def _message_text(value: Any) -> str:
    """A string, or the text of the last message of a chat."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and isinstance(value[-1], dict):
        content = value[-1].get("content", "")
        if isinstance(content, list):
            return "".join(c.get("text", "") for c in content if isinstance(c, dict))
        return str(content)
    return str(value)


def to_pairs(
    rows: list[dict[str, Any]], fmt: str, where: str, root: Path | None = None,
    preference_field: str | None = None,
) -> list[Pair]:
    """Preference pairs from any preference format (``fmt`` already resolved), media checked."""
    if fmt not in PREFERENCE_FORMATS:
        raise ConfigError(
            f"{where}: field 'data.format': {fmt!r} rows hold no preference; DPO and reward "
            f"models need one of {', '.join(PREFERENCE_FORMATS)}"
        )
    root = root if root is not None else Path(where).parent
    pairs = []
    for i, row in enumerate(rows):
        media = row_media(row, where, i, root)
        src = f"{where}: row {i}"
        if fmt == "preference":
            pair = Pair(
                _message_text(_field(row, "prompt", where, i)),
                _message_text(_field(row, "chosen", where, i)),
                _message_text(_field(row, "rejected", where, i)),
            )
            consumed = {"prompt", "chosen", "rejected"}
        elif fmt in ("align_anything", "align_anything_mm"):
            chosen, rejected, decided_by = indexed_choice(row, where, i, preference_field)
            pair = Pair(prompt_of(row, where, i), chosen, rejected)
            consumed = {"prompt", "question", "response_0", "response_1", "response_2"}
            pair.metadata["preference_field"] = decided_by
        else:  # feedback: the refinement is the better answer
            pair = Pair(
                str(_field(row, "prompt", where, i)),
                str(_field(row, "refinement", where, i)),
                str(_field(row, "response", where, i)),
            )
            consumed = {"prompt", "refinement", "response"}
        pair.media, pair.source = media, src
        pair.metadata.update(metadata_of(row, consumed))
        pairs.append(pair)
    return pairs


def to_completions(
    rows: list[dict[str, Any]], fmt: str, where: str, root: Path | None = None,
    preference_field: str | None = None,
) -> list[Completion]:
    """SFT examples (prompt, completion, media) from the SFT-capable formats; preference rows
    train on their preferred answer."""
    root = root if root is not None else Path(where).parent
    if fmt in PREFERENCE_FORMATS and fmt != "feedback":
        return [Completion(p.prompt, p.chosen, p.system, p.media, p.source)
                for p in to_pairs(rows, fmt, where, root, preference_field)]
    out = []
    for i, row in enumerate(rows):
        media = row_media(row, where, i, root)
        src = f"{where}: row {i}"
        if fmt == "sft":
            completion = row.get("completion", row.get("response"))
            if completion is None:
                raise ConfigError(
                    f"{where}: row {i}: field 'completion' (or 'response') is missing"
                )
            prompt = _message_text(_field(row, "prompt", where, i))
            out.append(Completion(prompt, str(completion), media=media, source=src))
        elif fmt == "feedback":
            out.append(Completion(str(_field(row, "prompt", where, i)),
                                  str(_field(row, "refinement", where, i)), media=media,
                                  source=src))
        elif fmt == "sample":
            out.append(sample_completion(row, where, i, root))
        elif fmt == "messages":
            msgs = _field(row, "messages", where, i)
            if not msgs or msgs[-1].get("role") != "assistant":
                raise ConfigError(
                    f"{where}: row {i}: field 'messages' must end with an assistant turn"
                )
            user = [m for m in msgs[:-1] if m.get("role") == "user"]
            prompt = _message_text(user[-1:] or [{"content": ""}])
            out.append(Completion(prompt, _message_text(msgs), media=media, source=src))
        else:
            raise ConfigError(
                f"{where}: field 'data.format': {fmt!r} rows cannot train SFT; use one of "
                f"{', '.join(SFT_FORMATS)}"
            )
    return out


def sample_completion(row: dict[str, Any], where: str, i: int, root: Path) -> Completion:
    """A Sample row: its text parts are the prompt, its media parts (paths relative to the
    data folder) travel with it."""
    from eval_anything.core.content import TextPart
    from eval_anything.core.sample import Sample

    try:
        s = Sample.model_validate(row).absolutize(root)
    except ValueError as e:
        raise ConfigError(f"{where}: row {i}: not a valid Sample row: {e}") from e
    if s.target is None:
        raise ConfigError(f"{where}: row {i} (sample {s.id!r}): field 'target' is missing")
    media = [MediaRef(f"input[{k}]", p) for k, p in enumerate(s.input)
             if not isinstance(p, TextPart)]
    return Completion(s.text, s.target, media=media, source=f"{where}: row {i}")


def to_critique_completions(
    rows: list[dict[str, Any]], template: str, where: str, root: Path | None = None
) -> list[Completion]:
    """``train critic`` rows: the prompt is the critique template over (prompt, response); the
    row's media stay with it, so a multimodal critic learns to critique what it sees."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    root = root if root is not None else Path(where).parent
    try:
        tmpl = SandboxedEnvironment().from_string(template)
    except jinja2.TemplateError as e:
        raise ConfigError(f"field 'critic.template': not a valid Jinja template: {e}") from e
    out = []
    for i, row in enumerate(rows):
        try:
            prompt = tmpl.render(
                prompt=prompt_of(row, where, i), response=_field(row, "response", where, i)
            )
        except jinja2.TemplateError as e:
            raise ConfigError(f"field 'critic.template': cannot render row {i}: {e}") from e
        out.append(Completion(prompt, str(_field(row, "critique", where, i)),
                              media=row_media(row, where, i, root), source=f"{where}: row {i}"))
    return out


