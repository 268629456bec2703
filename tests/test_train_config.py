"""Training configs: YAML plus flags, errors that name the file, the field and the fix;
precision chosen from the hardware; the data formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval_anything.errors import ConfigError
from eval_anything.trainers.config import load_train_config, parse_set_option
from eval_anything.trainers.setup.precision import decide

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return path


def test_yaml_and_flags_merge_with_flags_winning(tmp_path: Path) -> None:
    path = _write(tmp_path, """
model: {path: some/model}
data: {train: pairs.jsonl}
training: {max_steps: 10, learning_rate: 1.0e-5}
dpo: {beta: 0.1, loss_type: ipo}
""")
    key, value = parse_set_option("dpo.beta=0.25")
    cfg = load_train_config(path, "dpo", {"training.max_steps": 3, key: value})
    assert cfg.training.max_steps == 3 and cfg.training.learning_rate == 1e-5
    assert cfg.dpo.beta == 0.25 and cfg.dpo.loss_type == ["ipo"]
    assert cfg.algorithm == "dpo"


def test_unknown_field_names_file_field_and_fix(tmp_path: Path) -> None:
    path = _write(tmp_path, "model: {path: m}\ndata: {train: d.jsonl}\ntraining: {max_step: 3}\n")
    with pytest.raises(ConfigError) as e:
        load_train_config(path, "dpo")
    msg = str(e.value)
    assert str(path) in msg and "training.max_step" in msg and "training.trl" in msg


def test_algorithm_mismatch_and_missing_sections(tmp_path: Path) -> None:
    path = _write(tmp_path, "algorithm: sft\nmodel: {path: m}\ndata: {train: d.jsonl}\n")
    with pytest.raises(ConfigError, match="train sft"):
        load_train_config(path, "dpo")
    with pytest.raises(ConfigError, match="data.train"):
        load_train_config(None, "dpo", {"model.path": "m"})
    with pytest.raises(ConfigError, match="llf.critic"):
        load_train_config(None, "llf", {"model.path": "m", "data.train": "p.jsonl"})
    with pytest.raises(ConfigError, match="--set"):
        parse_set_option("no-equals-sign")


def test_llf_critic_binding_from_a_string() -> None:
    cfg = load_train_config(None, "llf", {
        "model.path": "m", "data.train": "p.jsonl", "llf.critic": "scripted:script=c.json",
    })
    assert cfg.llf is not None
    assert cfg.llf.critic.model == "scripted" and cfg.llf.critic.model_args == {"script": "c.json"}


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("*.yaml")))
def test_bundled_example_configs_validate(name: str) -> None:
    import yaml

    algorithm = yaml.safe_load((CONFIGS / name).read_text())["algorithm"]
    cfg = load_train_config(CONFIGS / name, algorithm)
    assert cfg.algorithm == algorithm


def test_precision_from_the_hardware() -> None:
    assert decide("auto", "cpu", {"bf16": False}).name == "fp32"
    assert decide("auto", "cpu", {"bf16": True}).name == "bf16"
    assert decide("auto", "cuda", {"bf16": True, "fp16": True}).name == "bf16"
    assert decide("auto", "cuda", {"bf16": False, "fp16": True}).name == "fp16"
    flags = decide("auto", "cpu", {"bf16": False}).trainer_flags()
    assert flags == {"bf16": False, "fp16": False}  # never TRL's silent bf16 default
    with pytest.raises(ValueError, match="training.precision"):
        decide("bf16", "cpu", {"bf16": False})
    assert decide("fp32", "cuda", {"bf16": True, "fp16": True}).name == "fp32"


def test_sft_formats(tmp_path: Path) -> None:
    from eval_anything.trainers.data.formats import resolve_format, to_completions
    from eval_anything.trainers.data.row_files import read_rows

    rows = {
        "sft.jsonl": {"prompt": "Q", "completion": "A"},
        "resp.jsonl": {"prompt": "Q", "response": "A"},
        "sample.jsonl": {"id": "s1", "input": [{"type": "text", "text": "Q"}], "target": "A"},
        "chat.jsonl": {"messages": [{"role": "user", "content": "Q"},
                                    {"role": "assistant", "content": "A"}]},
    }
    for name, row in rows.items():
        (tmp_path / name).write_text(json.dumps(row) + "\n")
        got = read_rows(tmp_path / name)
        items = to_completions(got, resolve_format(got, "auto", name), name)
        assert (items[0].prompt, items[0].completion) == ("Q", "A"), name


def test_bad_rows_name_the_file_row_and_field(tmp_path: Path) -> None:
    from eval_anything.trainers.data.formats import resolve_format, to_pairs
    from eval_anything.trainers.data.row_files import read_rows

    path = tmp_path / "aa.jsonl"
    path.write_text(json.dumps({"prompt": "Q", "response_0": "a", "response_1": "b",
                                "better_response_id": 2}) + "\n")
    rows = read_rows(path)
    with pytest.raises(ConfigError, match="row 0: field 'better_response_id'"):
        to_pairs(rows, resolve_format(rows, "auto", str(path)), str(path))
    (tmp_path / "odd.jsonl").write_text(json.dumps({"foo": 1}) + "\n")
    with pytest.raises(ConfigError, match="match no known format"):
        resolve_format(read_rows(tmp_path / "odd.jsonl"), "auto", "odd.jsonl")
    av = tmp_path / "av.jsonl"
    av.write_text(json.dumps({"question": "Q", "audio": "a.wav", "response_1": "x",
                              "response_2": "y", "overall_response": 1}) + "\n")
    missing = r"row 0: field 'audio' \(audio\): .*a.wav: file not found"
    with pytest.raises(ConfigError, match=missing):
        to_pairs(read_rows(av), "align_anything_mm", str(av))
