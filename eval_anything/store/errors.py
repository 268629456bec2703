"""The store's one error: it cannot be opened, migrated or written."""

from eval_anything.errors import EnvironmentFailure


class StoreError(EnvironmentFailure):
    """The store cannot be opened or written; the message says which store and why (exit 4)."""
