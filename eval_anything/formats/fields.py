"""Field checks shared by the format loaders: an error names the format, the field and what the
row holds, and the source wrapper adds the file and the row number."""

from __future__ import annotations

from typing import Any

from eval_anything.errors import UserError


class FormatError(UserError):
    """A row that does not match its dataset format."""


def require(row: dict[str, Any], fmt: str, fields: tuple[str, ...]) -> None:
    missing = [f for f in fields if f not in row or row[f] is None]
    if missing:
        have = ", ".join(sorted(row)) or "(nothing)"
        raise FormatError(
            f"{fmt} row is missing required field {', '.join(repr(m) for m in missing)} "
            f"(the row has: {have}; the format needs: {', '.join(fields)})"
        )


def as_str_list(value: Any, fmt: str, field: str) -> list[str]:
    """A list of strings; a comma-separated string is split."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    raise FormatError(
        f"{fmt} field {field!r} must be a list of strings, not {type(value).__name__}"
    )
