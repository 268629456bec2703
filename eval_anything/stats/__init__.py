"""Statistics, pure functions of numbers: standard errors and intervals, paired comparisons."""
