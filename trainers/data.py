"""Training data: our Sample format and the align-anything formats, turned into TRL's.

Accepted rows (``data.format: auto`` tells them apart by their fields):

- ``preference``: TRL's own ``prompt, chosen, rejected`` (strings or chat messages);
- ``align_anything``: ``prompt, response_0, response_1, better_response_id`` (0 or 1);
- ``align_anything_mm``: ``question, image|audio|video, response_1, response_2,
  overall_response`` (1 or 2), media paths relative to the data file;
- ``feedback``: ``prompt, response, refinement``, the refinement being the better answer;
- ``critique``: ``prompt, response, critique`` (for ``train critic``);
- ``sft``: ``prompt`` with ``completion`` or ``response``;  ``messages``: a chat;
- ``sample``: our Sample rows (``id, input, target``), the target being the completion.

Preference rows become ``{prompt, chosen, rejected}``, SFT rows ``{prompt, completion}``; both in
TRL's conversational form when the tokenizer has a chat template, so training sees the same
chat formatting the ``hf`` adapter uses when the checkpoint is scored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval_anything.trainers.config import ConfigError

PREFERENCE_FORMATS = ("preference", "align_anything", "align_anything_mm", "feedback")
SFT_FORMATS = ("sft", "messages", "sample", "feedback")
_MEDIA_FIELDS = ("image", "audio", "video")


@dataclass
class Pair:
    """One preference pair in plain text; ``images`` holds image paths for vision models and
    ``system`` an optional system prompt (conversational rows only)."""

    prompt: str
    chosen: str
    rejected: str
    images: list[str] = field(default_factory=list)
    system: str | None = None


@dataclass
class Completion:
    """One supervised row; ``system`` is an optional system prompt (as in :class:`Pair`)."""

    prompt: str
    completion: str
    system: str | None = None


def read_rows(path: str | Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows of a JSONL or JSON file, or of a local Hugging Face dataset folder."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"field 'data.train': {p}: file not found")
    if p.is_dir():
        import datasets

        ds = datasets.load_from_disk(str(p))
        if isinstance(ds, datasets.DatasetDict):
            ds = ds["train"]
        rows = [dict(r) for r in ds]
    elif p.suffix == ".json":
        data = json.loads(p.read_text(encoding="utf-8"))
        rows = data if isinstance(data, list) else data.get("rows") or data.get("data")
        if not isinstance(rows, list):
            raise ConfigError(f"{p}: expected a JSON list of rows (or {{'rows': [...]}})")
    else:
        rows = []
        with p.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise ConfigError(f"{p}:{lineno}: not valid JSON: {e}") from e
    if not rows:
        raise ConfigError(f"{p}: no rows")
    return rows[:limit] if limit is not None else rows


def detect_format(row: dict[str, Any], where: str) -> str:
    keys = set(row)
    if {"prompt", "chosen", "rejected"} <= keys:
        return "preference"
    if {"response_0", "response_1", "better_response_id"} <= keys:
        return "align_anything"
    if {"response_1", "response_2", "overall_response"} <= keys:
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
    raise ConfigError(
        f"{where}: row fields {sorted(keys)} match no known format; expected one of "
        "(prompt, chosen, rejected), (prompt, response_0, response_1, better_response_id), "
        "(question, image, response_1, response_2, overall_response), "
        "(prompt, response, refinement), (prompt, response, critique), (prompt, completion), "
        "messages, or Sample rows (id, input, target); or set data.format"
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
    rows: list[dict[str, Any]], fmt: str, where: str, base_dir: Path | None = None
) -> list[Pair]:
    """Preference pairs from any preference format (``fmt`` already resolved)."""
    if fmt not in PREFERENCE_FORMATS:
        raise ConfigError(
            f"{where}: field 'data.format': {fmt!r} rows hold no preference; DPO and reward "
            f"models need one of {', '.join(PREFERENCE_FORMATS)}"
        )
    pairs = []
    for i, row in enumerate(rows):
        if fmt == "preference":
            pairs.append(Pair(
                _message_text(_field(row, "prompt", where, i)),
                _message_text(_field(row, "chosen", where, i)),
                _message_text(_field(row, "rejected", where, i)),
            ))
        elif fmt == "align_anything":
            better = int(_field(row, "better_response_id", where, i))
            if better not in (0, 1):
                raise ConfigError(f"{where}: row {i}: field 'better_response_id' must be 0 or 1")
            r = [_field(row, "response_0", where, i), _field(row, "response_1", where, i)]
            pairs.append(Pair(str(_field(row, "prompt", where, i)), r[better], r[1 - better]))
        elif fmt == "align_anything_mm":
            pairs.append(_multimodal_pair(row, where, i, base_dir))
        else:  # feedback: the refinement is the better answer
            pairs.append(Pair(
                str(_field(row, "prompt", where, i)),
                str(_field(row, "refinement", where, i)),
                str(_field(row, "response", where, i)),
            ))
    return pairs


def _multimodal_pair(row: dict[str, Any], where: str, i: int, base_dir: Path | None) -> Pair:
    overall = int(_field(row, "overall_response", where, i))
    if overall not in (1, 2):
        raise ConfigError(f"{where}: row {i}: field 'overall_response' must be 1 or 2")
    r = [str(_field(row, "response_1", where, i)), str(_field(row, "response_2", where, i))]
    images: list[str] = []
    for media in _MEDIA_FIELDS:
        value = row.get(media)
        if not value:
            continue
        if media != "image":
            raise ConfigError(
                f"{where}: row {i}: field {media!r}: TRL has no {media} preference collator; "
                "train audio/video preference models with their own trainer, or drop the rows"
            )
        path = Path(str(value))
        images.append(str(base_dir / path if base_dir and not path.is_absolute() else path))
    prompt = str(row.get("question") or _field(row, "prompt", where, i))
    return Pair(prompt, r[overall - 1], r[2 - overall], images)


def to_completions(rows: list[dict[str, Any]], fmt: str, where: str) -> list[Completion]:
    """SFT examples (prompt, completion) from the SFT-capable formats."""
    out = []
    for i, row in enumerate(rows):
        if fmt == "sft":
            completion = row.get("completion", row.get("response"))
            if completion is None:
                raise ConfigError(
                    f"{where}: row {i}: field 'completion' (or 'response') is missing"
                )
            out.append(Completion(_message_text(_field(row, "prompt", where, i)), str(completion)))
        elif fmt == "feedback":
            out.append(Completion(str(row["prompt"]), str(_field(row, "refinement", where, i))))
        elif fmt == "sample":
            from eval_anything.sample import Sample

            s = Sample.model_validate(row)
            if s.target is None:
                raise ConfigError(f"{where}: row {i} (sample {s.id!r}): field 'target' is missing")
            out.append(Completion(s.text, s.target))
        elif fmt == "messages":
            msgs = _field(row, "messages", where, i)
            if not msgs or msgs[-1].get("role") != "assistant":
                raise ConfigError(
                    f"{where}: row {i}: field 'messages' must end with an assistant turn"
                )
            user = [m for m in msgs[:-1] if m.get("role") == "user"]
            prompt = _message_text(user[-1:] or [{"content": ""}])
            out.append(Completion(prompt, _message_text(msgs)))
        else:
            raise ConfigError(
                f"{where}: field 'data.format': {fmt!r} rows cannot train SFT; use one of "
                f"{', '.join(SFT_FORMATS)}"
            )
    return out


def to_critique_completions(
    rows: list[dict[str, Any]], template: str, where: str
) -> list[Completion]:
    """``train critic`` rows: the prompt is the critique template over (prompt, response)."""
    from jinja2.sandbox import SandboxedEnvironment

    tmpl = SandboxedEnvironment().from_string(template)
    out = []
    for i, row in enumerate(rows):
        prompt = tmpl.render(
            prompt=_field(row, "prompt", where, i), response=_field(row, "response", where, i)
        )
        out.append(Completion(prompt, str(_field(row, "critique", where, i))))
    return out


def _user(text: str, system: str | None = None) -> list[dict[str, str]]:
    head = [{"role": "system", "content": system}] if system else []
    return [*head, {"role": "user", "content": text}]


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def pairs_dataset(pairs: list[Pair], conversational: bool) -> Any:
    """A ``datasets.Dataset`` in TRL's preference format."""
    import datasets

    rows: list[dict[str, Any]]
    if conversational:
        rows = [
            {"prompt": _user(p.prompt, p.system), "chosen": _assistant(p.chosen),
             "rejected": _assistant(p.rejected)}
            for p in pairs
        ]
    else:
        rows = [
            {"prompt": f"{p.system}\n\n{p.prompt}" if p.system else p.prompt,
             "chosen": p.chosen, "rejected": p.rejected}
            for p in pairs
        ]
    if any(p.images for p in pairs):
        from PIL import Image

        for row, p in zip(rows, pairs, strict=True):
            row["images"] = [Image.open(path).convert("RGB") for path in p.images]
    return datasets.Dataset.from_list(rows)


def completions_dataset(items: list[Completion], conversational: bool) -> Any:
    import datasets

    rows: list[dict[str, Any]]
    if conversational:
        rows = [{"prompt": _user(c.prompt, c.system), "completion": _assistant(c.completion)}
                for c in items]
    else:
        rows = [{"prompt": f"{c.system}\n\n{c.prompt}" if c.system else c.prompt,
                 "completion": c.completion} for c in items]
    return datasets.Dataset.from_list(rows)


def use_chat(chat: str, tokenizer: Any) -> bool:
    if chat == "always":
        return True
    if chat == "never":
        return False
    return bool(getattr(tokenizer, "chat_template", None))
