"""Bundled training configs (YAML), installed as ``eval_anything.configs`` so that
``eval-anything train dpo --config dpo_smollm2`` finds them by name from any folder
(``eval-anything train --list-configs`` lists them)."""
