"""Measure a clip: the background, the main object's color and shape, and where it moves.

Each frame is measured as a picture (:mod:`eval_anything.analyzers.image`); the largest object of
the first frame is followed through the frames by color, and its centroid's net travel gives the
direction (``still`` when it moves less than 4 % of the frame).

Lossy video (H.264/VP9 at 4:2:0 chroma) blurs colour edges: a red square on black gains a thin
brown rim that the picture analyzer would count as an object of its own. Regions smaller than
:data:`FRINGE_FRACTION` of the main object are such rims and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eval_anything.analyzers.image import analyze_image

STILL_FRACTION = 0.04
FRINGE_FRACTION = 0.25


@dataclass
class VideoFacts:
    background: str
    color: str | None
    shape: str | None
    objects: int
    motion: str | None
    frames: int


def analyze_video(frames: list[Any]) -> VideoFacts:
    if not frames:
        return VideoFacts("white", None, None, 0, None, 0)
    first = analyze_image(frames[0])
    if not first.objects:
        return VideoFacts(first.background, None, None, 0, None, len(frames))
    main = max(first.objects, key=lambda o: o.area)
    counted = [o for o in first.objects if o.area >= FRINGE_FRACTION * main.area]
    last_facts = analyze_image(frames[-1])
    same = [o for o in last_facts.objects
            if o.color == main.color and o.area >= FRINGE_FRACTION * main.area]
    motion = "still"
    if same:
        end = max(same, key=lambda o: o.area).centroid
        dx, dy = end[0] - main.centroid[0], end[1] - main.centroid[1]
        size = max(frames[0].size)
        if max(abs(dx), abs(dy)) >= STILL_FRACTION * size:
            if abs(dx) >= abs(dy):
                motion = "right" if dx > 0 else "left"
            else:
                motion = "down" if dy > 0 else "up"
    return VideoFacts(
        first.background, main.color, main.shape, len(counted), motion, len(frames)
    )
