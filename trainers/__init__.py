"""Pluggable alignment trainers (installed as eval_anything.trainers)."""
