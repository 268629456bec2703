"""Bundled task suites (YAML specs and small data files), installed as eval_anything.tasks."""
