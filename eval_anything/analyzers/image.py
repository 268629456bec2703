"""Measure a picture: background color, and each object's color, shape, size and position.

Every pixel is snapped to the nearest color of the shared palette; the most common color on the
border is the background; connected regions of any other color (larger than a few pixels) are
objects. An object's shape comes from how much of its bounding box it fills: a square fills all
of it, a disc about 79 %, a triangle about half.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eval_anything.analyzers.vocabulary import COLORS

_NAMES = list(COLORS)
_PALETTE = np.array([COLORS[n] for n in _NAMES], dtype=np.float32)
MIN_AREA_FRACTION = 0.002


@dataclass
class DetectedObject:
    color: str
    shape: str
    area: int
    centroid: tuple[float, float]
    fill: float


@dataclass
class ImageFacts:
    background: str
    objects: list[DetectedObject] = field(default_factory=list)

    def count(self, color: str | None = None, shape: str | None = None) -> int:
        return sum(
            1 for o in self.objects
            if (color is None or o.color == color) and (shape is None or o.shape == shape)
        )


def color_index_map(img: Any) -> np.ndarray:
    """Palette index of every pixel (nearest color in RGB)."""
    rgb = np.asarray(img.convert("RGB"), dtype=np.float32)
    dist = ((rgb[:, :, None, :] - _PALETTE[None, None, :, :]) ** 2).sum(axis=-1)
    return dist.argmin(axis=-1)


def shape_from_fill(fill: float, aspect: float) -> str:
    if fill >= 0.9 and 0.7 <= aspect <= 1.4:
        return "square"
    if fill >= 0.9:
        return "rectangle"
    if fill >= 0.66:
        return "circle"
    return "triangle"


def analyze_image(img: Any) -> ImageFacts:
    from scipy import ndimage

    idx = color_index_map(img)
    h, w = idx.shape
    border = np.concatenate([idx[0], idx[-1], idx[:, 0], idx[:, -1]])
    bg = Counter(border.tolist()).most_common(1)[0][0]
    min_area = max(4, int(MIN_AREA_FRACTION * h * w))
    objects: list[DetectedObject] = []
    for ci in sorted(set(np.unique(idx).tolist()) - {bg}):
        labels, n = ndimage.label(idx == ci)
        for k in range(1, n + 1):
            ys, xs = np.nonzero(labels == k)
            area = int(ys.size)
            if area < min_area:
                continue
            bw, bh = int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)
            fill = area / float(bw * bh)
            objects.append(
                DetectedObject(
                    color=_NAMES[ci], shape=shape_from_fill(fill, bw / bh), area=area,
                    centroid=(float(xs.mean()), float(ys.mean())), fill=round(fill, 3),
                )
            )
    objects.sort(key=lambda o: (o.centroid[1], o.centroid[0]))
    return ImageFacts(background=_NAMES[bg], objects=objects)
