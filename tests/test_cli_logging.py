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


def test_logging_follows_the_current_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """The handler writes to sys.stderr as it is when a record is emitted (not a stream that a
    test runner or a redirect has since closed), and a second call adds no second handler."""
    CliRunner().invoke(app, ["tasks"])
    CliRunner().invoke(app, ["-v", "tasks"])
    logging.getLogger("eval_anything.test").warning("a warning after the CLI returned")
    err = capsys.readouterr().err
    assert err.count("a warning after the CLI returned") == 1
