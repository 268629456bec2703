"""The small visual and sound vocabulary shared by the procedural generator (which draws what an
instruction names) and the analyzers (which measure what a file contains).

A *scene* is a background color, groups of objects (count, color, shape) and an optional motion
direction; a *sound* is a number of beeps at a pitch. ``parse_scene`` / ``parse_sound`` read them
from free text ("three red circles on a blue background", "two high beeps").
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (240, 210, 40),
    "orange": (245, 140, 30),
    "purple": (140, 60, 180),
    "pink": (240, 130, 180),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
    "gray": (128, 128, 128),
    "brown": (130, 80, 40),
    "cyan": (40, 200, 210),
}
COLOR_ALIASES = {"grey": "gray", "violet": "purple", "turquoise": "cyan"}
SHAPES = ("circle", "square", "triangle")
SHAPE_ALIASES = {
    "circle": "circle", "circles": "circle", "dot": "circle", "dots": "circle", "ball": "circle",
    "balls": "circle", "disc": "circle", "discs": "circle", "square": "square",
    "squares": "square", "box": "square", "boxes": "square", "block": "square",
    "blocks": "square", "triangle": "triangle", "triangles": "triangle",
}
DIRECTIONS = ("left", "right", "up", "down")
PITCHES: dict[str, float] = {"low": 220.0, "medium": 440.0, "high": 880.0}
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "pair": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "once": 1, "twice": 2, "thrice": 3,
}
NUMBER_NAMES = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}

_TOKEN = re.compile(r"[a-z]+|\d+")


@dataclass
class ObjectSpec:
    shape: str
    color: str
    count: int = 1


@dataclass
class SceneSpec:
    """What a picture (or each frame of a clip) should show."""

    background: str = "white"
    objects: list[ObjectSpec] = field(default_factory=list)
    motion: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SceneSpec:
        objs = [ObjectSpec(**o) for o in d.get("objects", [])]
        return cls(background=d.get("background", "white"), objects=objs, motion=d.get("motion"))


@dataclass
class SoundSpec:
    """What a sound should contain: ``beeps`` tones at ``pitch`` (low / medium / high)."""

    beeps: int = 1
    pitch: str = "medium"
    hz: float | None = None

    def frequency(self) -> float:
        return float(self.hz) if self.hz else PITCHES.get(self.pitch, 440.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def color_of(word: str) -> str | None:
    w = COLOR_ALIASES.get(word, word)
    return w if w in COLORS else None


def number_of(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return NUMBER_WORDS.get(word)


def parse_scene(text: str) -> SceneSpec:
    """Background, object groups and motion named in ``text``.

    An object is a shape word with the color and count just before it ("three red circles");
    a color before an unknown noun ("a red apple") becomes a circle of that color, so every
    colored thing named is drawn; "on a blue background" / "background is blue" set the
    background.
    """
    toks = tokens(text)
    spec = SceneSpec()
    used: set[int] = set()
    for i, t in enumerate(toks):
        if t in ("background", "backdrop", "sky") and i > 0:
            for j in (i - 1, i - 2):
                if j >= 0 and color_of(toks[j]):
                    spec.background = color_of(toks[j]) or spec.background
                    used.add(j)
                    break
            else:
                for j in (i + 1, i + 2, i + 3):
                    if j < len(toks) and color_of(toks[j]):
                        spec.background = color_of(toks[j]) or spec.background
                        used.add(j)
                        break
    default_color = "white" if spec.background == "black" else "black"
    for i, t in enumerate(toks):
        shape = SHAPE_ALIASES.get(t)
        noun_at = i
        if shape is None:
            nxt = toks[i + 1] if i + 1 < len(toks) else ""
            if color_of(t) is None or i in used or not _is_thing(nxt):
                continue
            shape, noun_at = "circle", i + 1  # a colored unknown thing is drawn as a disc
        color, count = None, None
        for j in range(noun_at - 1, max(-1, noun_at - 4), -1):
            if color is None and color_of(toks[j]) and j not in used:
                color = color_of(toks[j])
                used.add(j)
                continue
            if number_of(toks[j]) is not None:
                count = number_of(toks[j])
                break
        obj = ObjectSpec(shape=shape, color=color or default_color, count=max(1, count or 1))
        spec.objects.append(obj)
    spec.motion = _motion(toks)
    return spec


_NOT_THINGS = {"background", "backdrop", "sky", "and", "or", "with", "on", "in", "color", "colour"}


def _is_thing(word: str) -> bool:
    """Whether ``word`` after a color names a thing to draw (not a shape, color or filler)."""
    return (
        word.isalpha() and word not in _NOT_THINGS and color_of(word) is None
        and word not in SHAPE_ALIASES
    )


def _motion(toks: list[str]) -> str | None:
    for i, t in enumerate(toks):
        if t in ("to", "toward", "towards", "moving", "moves", "move", "going", "goes", "slides",
                 "drifting", "drifts", "rolling", "rolls", "flying", "flies"):
            for j in range(i + 1, min(len(toks), i + 4)):
                if toks[j] in DIRECTIONS:
                    return toks[j]
                if toks[j] in ("upward", "upwards"):
                    return "up"
                if toks[j] in ("downward", "downwards"):
                    return "down"
        if t in ("upward", "upwards", "rising", "rises"):
            return "up"
        if t in ("downward", "downwards", "falling", "falls", "sinking", "sinks"):
            return "down"
    return None


SOUND_WORDS = frozenset(("beep", "beeps", "tone", "tones", "chime", "chimes", "ping", "pings",
                         "pulse", "pulses", "note", "notes", "sound", "sounds"))


def mentions_sound(text: str) -> bool:
    """Whether ``text`` asks for a sound at all (a video instruction may or may not)."""
    return any(t in SOUND_WORDS for t in tokens(text))


def parse_sound(text: str) -> SoundSpec:
    """Beep count and pitch named in ``text`` ("two high beeps", "beep 3 times at 880 Hz")."""
    toks = tokens(text)
    spec = SoundSpec()
    for i, t in enumerate(toks):
        if t in ("beep", "beeps", "tone", "tones", "chime", "chimes", "ping", "pings", "pulse",
                 "pulses", "note", "notes", "times"):
            for j in range(i - 1, max(-1, i - 4), -1):
                n = number_of(toks[j])
                if n is not None and toks[j] not in ("a", "an"):
                    spec.beeps = n
                    break
            if t == "times":
                break
        if t == "hz" and i > 0 and toks[i - 1].isdigit():
            spec.hz = float(toks[i - 1])
    for t in toks:
        if t in ("high", "higher", "shrill", "squeaky", "treble"):
            spec.pitch = "high"
        elif t in ("low", "lower", "deep", "bass", "rumbling"):
            spec.pitch = "low"
    return spec
