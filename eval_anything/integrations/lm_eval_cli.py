"""lm-eval's own command line with the ``eval-anything`` model registered.

lm-eval releases up to 0.4.13 resolve ``--model`` against a registry that only lm-eval's
source fills, so ``python -m eval_anything.integrations.lm_eval_cli run --model eval-anything
--model_args adapter=hf,pretrained=DIR --tasks ...`` is lm-eval's CLI (same flags, same output)
after registering our model. Later releases also read the ``lm_eval.models`` entry point, so
plain ``lm_eval`` works there.
"""

from __future__ import annotations

import sys

OTHER_SUBCOMMANDS = ("ls", "validate")


def with_device_default(argv: list[str]) -> list[str]:
    """lm-eval's ``--device`` defaults to ``cuda:0``; ours is ``auto`` (CUDA when there is
    one, else the CPU), as for ``eval-anything run``. An explicit ``--device`` or a
    ``--config`` file (which may set one) is left alone."""
    given = {a.split("=", 1)[0] for a in argv[1:]}
    # lm-eval reads arguments without a subcommand as "run" (its older command line)
    evaluates = len(argv) > 2 and argv[1] not in OTHER_SUBCOMMANDS
    if not evaluates or given & {"--device", "--config", "-C", "--help", "-h"}:
        return argv
    return [*argv, "--device", "auto"]


def main() -> None:
    from lm_eval.__main__ import cli_evaluate

    import eval_anything.integrations.lm_eval_model  # noqa: F401  (registers the model)

    sys.argv = with_device_default(sys.argv)
    cli_evaluate()


if __name__ == "__main__":
    main()
