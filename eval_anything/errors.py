"""The one base class for errors a user can fix (bad input, a busy folder, a full disk).

The CLI turns a ``UserError`` into one line on stderr and its ``exit_code`` (2 unless a subclass
says otherwise); anything else is a bug in eval-anything and keeps its traceback (exit 1).
``UserError`` derives from ``ValueError`` so callers that caught ``ValueError`` keep working.
"""

from __future__ import annotations


class UserError(ValueError):
    """Input or environment the user can fix; the message names the file or flag and the fix."""

    exit_code: int = 2
