"""The CI regression gate: its inputs (runs and their primary scores), verdicts and reports."""
