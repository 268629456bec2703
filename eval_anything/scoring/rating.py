"""The image instruction-following rubric and rating helpers.

The paper's image rubric (a 10-point total): key elements present (0-4), details of the key
elements (0-3), scene consistency (0-2), reasonable unmentioned elements (0-1). An LLM judge
returns the total directly; the mini suite's pixel analyzer fills in each part and adds them up
here, so the formula lives in one place.
"""

from __future__ import annotations

RUBRIC_MAX = {"key_elements": 4.0, "details": 3.0, "scene": 2.0, "extras": 1.0}
RATING_SCALE = (1.0, 10.0)


def rubric_total(key_elements: float, details: float, scene: float, extras: float) -> float:
    """Sum of the four rubric parts, each checked against its maximum."""
    parts = {"key_elements": key_elements, "details": details, "scene": scene, "extras": extras}
    for name, value in parts.items():
        if not 0.0 <= value <= RUBRIC_MAX[name]:
            raise ValueError(f"rubric part {name}={value} is outside 0-{RUBRIC_MAX[name]:g}")
    return float(sum(parts.values()))


def rubric_from_fractions(
    present: float, details_match: float, scene_match: bool, extras_ok: bool
) -> dict[str, float]:
    """Rubric parts from measured fractions: the share of required elements present, the
    share whose details (count, shape, color) match, whether the scene matches, and whether
    nothing unrequested was added."""
    for name, frac in (("present", present), ("details_match", details_match)):
        if not 0.0 <= frac <= 1.0:
            raise ValueError(f"{name}={frac} is not a fraction in 0-1")
    parts = {
        "key_elements": RUBRIC_MAX["key_elements"] * present,
        "details": RUBRIC_MAX["details"] * details_match,
        "scene": RUBRIC_MAX["scene"] * float(scene_match),
        "extras": RUBRIC_MAX["extras"] * float(extras_ok),
    }
    parts["total"] = rubric_total(
        parts["key_elements"], parts["details"], parts["scene"], parts["extras"]
    )
    return parts
