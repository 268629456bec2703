"""The built-in components, by import path; the registry imports each only when asked for."""

from eval_anything.registry import register_lazy

_BUILTINS = {
    "model": {
        "hf": "eval_anything.models.hf:HFModel",
        "smollm2": "eval_anything.models.smollm2:SmolLM2Model",
        "scripted": "eval_anything.models.scripted:ScriptedModel",
        "openai": "eval_anything.models.openai:OpenAIModel",
    },
    "scorer": {
        "exact_match": "eval_anything.scoring.basic:ExactMatchScorer",
        "includes": "eval_anything.scoring.basic:IncludesScorer",
        "choice_accuracy": "eval_anything.scoring.basic:ChoiceAccuracyScorer",
    },
    "metric": {
        "mean": "eval_anything.scoring.metrics:mean_metric",
        "mean_by": "eval_anything.scoring.metrics:mean_by_metric",
    },
    "aggregator": {
        "mean": "eval_anything.scoring.metrics:mean_aggregator",
    },
    "loader": {
        "sample": "eval_anything.sources:sample_loader",
        "qa": "eval_anything.sources:qa_loader",
    },
    "judge": {},
    "tasks": {},
}

for _kind, _entries in _BUILTINS.items():
    for _name, _target in _entries.items():
        register_lazy(_kind, _name, _target)
