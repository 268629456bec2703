"""Bridges to other evaluation ecosystems (lm-eval in both directions)."""
