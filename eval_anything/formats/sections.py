"""The sectioned answer format of the AMG tasks, read tolerantly.

The modality-selection and synergy prompts ask a model to answer as::

    [[response]]: <text answer>
    [[image_instruction]]: <prompt for an image generator, or None>
    [[audio_instruction]]: <prompt for an audio generator, or None>

Small models write this badly: single brackets, bold markdown, missing colons, everything on one
line, the template echoed before the answer, ``None.`` or ``N/A`` for "not chosen". The parser
accepts all of those; when a section appears twice the *last* one wins (an echoed template comes
first). A placeholder echoed verbatim (``<image_instruction>``) counts as not chosen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SECTION_NAMES = ("response", "image", "audio", "video")

# aliases a model may use for each section header -> canonical name
_ALIASES = {
    "response": "response",
    "text": "response",
    "text_response": "response",
    "answer": "response",
    "image": "image",
    "image_instruction": "image",
    "audio": "audio",
    "audio_instruction": "audio",
    "video": "video",
    "video_instruction": "video",
}
_NAME = r"(response|text[ _-]?response|text|answer|(?:image|audio|video)(?:[ _-]?instructions?)?)"
# [[name]] anywhere; [name] or **name** or bare "name:" only at the start of a line
_DOUBLE = re.compile(r"\[\[\s*" + _NAME + r"\s*\]\]\s*[:：]?", re.IGNORECASE)
_SINGLE = re.compile(
    r"^[ \t>#*\-]*(?:\[\s*" + _NAME + r"\s*\]|\*\*\s*" + _NAME + r"\s*\*\*|"
    + _NAME + r"(?=\s*[:：]))"
    r"\s*(?:\*\*)?\s*[:：]?\s*(?:\*\*)?",
    re.IGNORECASE | re.MULTILINE,
)
_END = re.compile(r"\[/?\s*output_format\s*\]", re.IGNORECASE)
_NONE_WORDS = {"none", "null", "n/a", "na", "nil", "nothing", "no", "-", "--", "not needed"}


@dataclass
class Sections:
    """What a sectioned answer holds. ``found`` is False when no section header was seen."""

    found: bool = False
    content: dict[str, str | None] = field(default_factory=dict)

    def chosen(self, name: str) -> bool:
        return bool(self.content.get(name))

    def get(self, name: str) -> str | None:
        return self.content.get(name)


def _canonical(raw: str) -> str:
    key = re.sub(r"[ \-]+", "_", raw.strip().lower())
    key = key.removesuffix("s") if key.endswith("instructions") else key
    return _ALIASES.get(key, _ALIASES.get(key.split("_")[0], "response"))


def is_none_answer(text: str) -> bool:
    """True for the ways models say "no content here": None, N/A, <none>, None. (reason)."""
    t = text.strip().strip("`*_\"'“”").strip()
    if not t:
        return True
    low = t.lower().rstrip(".!")
    if low in _NONE_WORDS:
        return True
    if re.fullmatch(r"<[^<>]*>", t):  # a template placeholder echoed back
        return True
    return re.match(r"none\b(?![a-z])", low) is not None and len(low) < 80


def parse_sections(text: str) -> Sections:
    """Split ``text`` into sections; a section saying None (or absent) maps to None."""
    marks: list[tuple[int, int, str]] = []
    for rx in (_DOUBLE, _SINGLE):
        for m in rx.finditer(text):
            raw = next(g for g in m.groups() if g)
            marks.append((m.start(), m.end(), _canonical(raw)))
    if not marks:
        return Sections(found=False, content={})
    marks.sort()
    kept: list[tuple[int, int, str]] = []
    for start, end, name in marks:  # drop a single-bracket match inside a double-bracket one
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end, name))
    content: dict[str, str | None] = {}
    for i, (_start, end, name) in enumerate(kept):
        stop = kept[i + 1][0] if i + 1 < len(kept) else len(text)
        body = text[end:stop]
        cut = _END.search(body)
        if cut:
            body = body[: cut.start()]
        body = body.strip()
        content[name] = None if is_none_answer(body) else body
    return Sections(found=True, content=content)


def response_text(text: str) -> str:
    """The plain text answer: the response section when the text is sectioned, else all of it."""
    sec = parse_sections(text)
    if not sec.found:
        return text.strip()
    return sec.get("response") or ""
