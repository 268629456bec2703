"""The CLI as a reader meets it: listings that say what each component is and what it takes,
tables and help that fit an 80-column terminal or a pipe, ``push`` saying what it pushed, and
the bundled training configs found by name from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from eval_anything import registry
from eval_anything.cli import app
from eval_anything.cli.store import shown_store_url
from eval_anything.cli.train import bundled_configs, bundled_data_overrides, resolve_config
from eval_anything.errors import ConfigError
from eval_anything.store.synthetic import binary_run

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def cli(*args: str, columns: int | None = 80,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real command with its stdout a pipe, as `| cat` or a CI log has it."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["HF_HUB_OFFLINE"] = "1"
    if columns is not None:
        env["COLUMNS"] = str(columns)
    exe = Path(sys.executable).with_name("eval-anything")
    return subprocess.run([str(exe), *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)


def _fits(text: str, columns: int) -> None:
    wide = [line for line in text.splitlines() if len(line) > columns]
    assert not wide, f"{len(wide)} line(s) wider than {columns}: {wide[:2]}"


@pytest.mark.parametrize("kind", ["model", "judge", "scorer", "metric"])
def test_every_component_has_a_description_of_its_own(kind: str) -> None:
    for name in registry.names(kind):
        text = registry.description(kind, name)
        assert text, f"{kind} {name}: no description"
        assert not text.startswith(("Base class", "args:")), f"{kind} {name}: {text}"
        assert "\n" not in text and "``" not in text


@pytest.mark.slow  # several real CLI processes
def test_models_list_descriptions_and_arguments_in_80_columns() -> None:
    out = cli("models")
    assert out.returncode == 0, out.stderr
    _fits(out.stdout, 80)
    words = set(out.stdout.replace(",", " ").split())
    assert set(registry.names("model")) <= words
    assert {"Chat", "completions", "OpenAI-compatible"} <= words  # openai's description
    assert {"pretrained*", "base_url", "max_concurrency"} <= words
    wide = " ".join(cli("models", columns=250).stdout.split())  # one line per row
    assert "Chat completions from an OpenAI-compatible server." in wide
    assert "those of hf but pretrained" in wide  # smollm2 passes its arguments on to hf


def test_one_model_in_full_with_types_defaults_and_help() -> None:
    out = cli("models", "openai")
    assert out.returncode == 0, out.stderr
    _fits(out.stdout, 80)
    lines = [line.strip() for line in out.stdout.splitlines()]
    assert "max_concurrency: int = 8" in lines
    assert "base_url: str = 'https://api.openai.com/v1'" in lines
    assert "requests in flight at once." in lines  # help from the docstring's Args section
    assert not any(line.startswith("api_key:") for line in lines)  # Python callers only
    hf = runner.invoke(app, ["models", "hf"])
    assert "pretrained: str (required)" in [line.strip() for line in hf.output.splitlines()]


def test_an_unknown_name_is_refused_with_the_nearest() -> None:
    out = runner.invoke(app, ["models", "openia"])
    assert out.exit_code == 2
    assert "'openia' is not registered" in out.output and "did you mean 'openai'" in out.output


@pytest.mark.slow  # several real CLI processes
def test_judges_list_what_they_rate_and_their_options() -> None:
    out = cli("judges")
    assert out.returncode == 0, out.stderr
    _fits(out.stdout, 80)
    flat = " ".join(out.stdout.split())
    assert "the model args of hf" in flat and "retry_temperature" in flat
    one = runner.invoke(app, ["judges", "reward"])
    assert one.exit_code == 0, one.output
    assert "rates: synergy" in one.output
    assert "describe_media: bool" in [line.strip() for line in one.output.splitlines()]
    llm = runner.invoke(app, ["judges", "smollm2"])
    assert "mode: str = 'generate'" in [line.strip() for line in llm.output.splitlines()]


def test_scorers_list_the_yaml_args_their_code_reads() -> None:
    out = runner.invoke(app, ["scorers", "exact_match"])
    assert out.exit_code == 0, out.output
    lines = [line.strip() for line in out.output.splitlines()]
    assert {"lower = True", "strip_punct = True", "regex = None", "score_name = None"} <= set(lines)
    metric = runner.invoke(app, ["scorers", "mean_by"])
    assert metric.exit_code == 0, metric.output
    assert "all_name: str = 'all'" in [line.strip() for line in metric.output.splitlines()]


@pytest.mark.parametrize("columns", [80, 100])
def test_tasks_table_never_breaks_a_name(columns: int) -> None:
    out = cli("tasks", "--no-sizes", columns=columns)
    assert out.returncode == 0, out.stderr
    _fits(out.stdout, columns)
    assert "All-modality understanding" in out.stdout  # what the task is, under its name
    words = set(out.stdout.split())
    from eval_anything.spec.listing import describe_tasks

    rows, groups = describe_tasks([], count=False)
    for name in [r.name for r in rows] + list(groups):
        assert name in words, f"task or group {name!r} is not shown whole"


@pytest.mark.parametrize("columns", [80, None, 120])  # 120: rich's panels, still whole
def test_piped_help_shows_every_option_name_whole(columns: int | None) -> None:
    run = get_command(app).commands["run"]  # type: ignore[attr-defined]
    names = [opt for p in run.params for opt in (*p.opts, *p.secondary_opts)]
    out = cli("run", "--help", columns=columns)
    assert out.returncode == 0, out.stderr
    _fits(out.stdout, columns or 80)
    words = set(out.stdout.replace(",", " ").replace("/", " ").replace("│", " ").split())
    missing = [n for n in names if n not in words]
    assert not missing, f"cut or missing in `run --help | cat`: {missing}"


def test_push_says_what_it_pushed(tmp_path: Path) -> None:
    run_dir = binary_run(tmp_path / "base", "run-one", {"a": [1.0, 0.0], "b": [1.0]})
    store = tmp_path / "store.sqlite"
    out = runner.invoke(app, ["push", str(run_dir), "--store", str(store)])
    assert out.exit_code == 0, out.output
    assert "Store(" not in out.output
    assert f"store: sqlite:///{store}" in out.output
    assert f"pushed run-one: tiny-model (scripted), tasks a, b from {run_dir}" in out.output


def test_a_store_password_is_never_printed() -> None:
    shown = shown_store_url("postgresql+psycopg://ann:hunter2@db.example:5432/board")
    assert "hunter2" not in shown and shown.startswith("postgresql+psycopg://ann:")


def test_bundled_configs_resolve_by_name_from_any_folder(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shipped = {p.stem for p in (ROOT / "configs").glob("*.yaml")}
    assert set(bundled_configs()) == shipped
    for text in ("dpo_smollm2", "dpo_smollm2.yaml", "configs/dpo_smollm2.yaml"):
        path, bundled = resolve_config(text)
        assert bundled and path.name == "dpo_smollm2.yaml" and path.is_file()
    # its training rows are read from the installed tasks when the folder has none
    data = bundled_data_overrides(path, {})["data.train"]
    assert Path(data).is_file() and data.endswith("selection_pairs.jsonl")
    assert bundled_data_overrides(path, {"data.train": "mine.jsonl"}) == {}
    # a file of the user's own at that path wins
    own = tmp_path / "configs" / "dpo_smollm2.yaml"
    own.parent.mkdir()
    own.write_text("algorithm: dpo\n")
    assert resolve_config("configs/dpo_smollm2.yaml") == (Path("configs/dpo_smollm2.yaml"), False)
    with pytest.raises(ConfigError, match="dpo_t2i_janus") as err:
        resolve_config("dpo_smolm2")
    assert "--list-configs" in str(err.value)
    with pytest.raises(ConfigError):
        resolve_config("elsewhere/dpo_smollm2.yaml")  # a path, not a name: never guessed


@pytest.mark.slow  # several real CLI processes
def test_train_cli_lists_and_refuses_configs(tmp_path: Path) -> None:
    listed = cli("train", "--list-configs", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    _fits(listed.stdout, 80)
    for name in bundled_configs():
        assert name in listed.stdout.split()
    bad = cli("train", "dpo", "--config", "nope", cwd=tmp_path)
    assert bad.returncode == 2
    assert "--config nope" in bad.stderr and "dpo_smollm2" in bad.stderr
    assert not any(tmp_path.iterdir())  # nothing written
