"""The CLI configures logging: warnings by default, INFO with -v, errors only with -q, all on
stderr; --version still works."""

from __future__ import annotations

import logging

import pytest
from typer.testing import CliRunner

from eval_anything import __version__
from eval_anything.cli import app


@pytest.fixture(autouse=True)
def _restore_root_logger() -> object:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield None
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(("flags", "level"), [([], logging.WARNING), (["-v"], logging.INFO),
                                              (["--verbose"], logging.INFO),
                                              (["-q"], logging.ERROR),
                                              (["--quiet"], logging.ERROR)])
def test_log_level_follows_the_flags(flags: list[str], level: int) -> None:
    result = CliRunner().invoke(app, [*flags, "tasks"])
    assert result.exit_code == 0, result.output
    assert logging.getLogger().getEffectiveLevel() == level


def test_verbose_and_quiet_together_is_a_user_error() -> None:
    result = CliRunner().invoke(app, ["-v", "-q", "tasks"])
    assert result.exit_code == 2 and "not both" in result.output


def test_version_still_works() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
