"""lm-eval's own command line with the ``eval-anything`` model registered.

lm-eval releases up to 0.4.13 resolve ``--model`` against a registry that only lm-eval's
source fills, so ``python -m eval_anything.integrations.lm_eval_cli run --model eval-anything
--model_args adapter=hf,pretrained=DIR --tasks ...`` is lm-eval's CLI (same flags, same output)
after registering our model. Later releases also read the ``lm_eval.models`` entry point, so
plain ``lm_eval`` works there.
"""

from __future__ import annotations


def main() -> None:
    from lm_eval.__main__ import cli_evaluate

    import eval_anything.integrations.lm_eval_model  # noqa: F401  (registers the model)

    cli_evaluate()


if __name__ == "__main__":
    main()
