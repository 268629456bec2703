"""The one strict reader of JSON rows (eval_anything/core/json_rows.py): NaN and Infinity are
refused with the line, bad UTF-8 and bad JSON are RowErrors with the line, and rows that did
not come through the parser (Parquet, ``datasets``) are searched for non-finite numbers by
dotted field name. The callers (task sources, results files, sample logs) keep its rule."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eval_anything.core.json_rows import RowError, jsonl_values, loads, non_finite_field


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_constants_are_refused(constant: str) -> None:
    with pytest.raises(RowError, match=constant) as e:
        loads(f'{{"score": {constant}}}', line=7)
    assert e.value.line == 7
    assert "write null" in str(e.value)


def test_plain_json_reads_as_json_does() -> None:
    text = '{"a": 1.5, "b": [1, null, "x"], "c": {"d": true}}'
    assert loads(text) == json.loads(text)
    assert loads(text.encode("utf-8")) == json.loads(text)


def test_bad_json_names_the_line_of_a_whole_document() -> None:
    with pytest.raises(RowError, match="not valid JSON") as e:
        loads('{\n  "a": 1,\n  "b": \n}')
    assert e.value.line == 4  # json's own line within the document


def test_bad_utf8_bytes_are_a_row_error() -> None:
    with pytest.raises(RowError, match="UTF-8"):
        loads(b'{"q": "caf\xe9"}')


def test_jsonl_values_skip_blank_lines_and_count_every_line(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": 1}\n\n   \n[2]\n"three"\n', encoding="utf-8")
    assert list(jsonl_values(path)) == [(1, {"id": 1}), (4, [2]), (5, "three")]


@pytest.mark.parametrize(
    ("content", "line", "needle"),
    [
        (b'{"id": 1}\n{"id": NaN}\n', 2, "NaN"),
        (b'{"id": 1}\n{"id": 2}\n{oops\n', 3, "not valid JSON"),
        (b'{"id": 1}\n{"q": "caf\xe9"}\n', 2, "UTF-8"),
    ],
)
def test_jsonl_values_name_the_bad_line(
    tmp_path: Path, content: bytes, line: int, needle: str
) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(content)
    rows = jsonl_values(path)
    assert next(rows) == (1, {"id": 1})
    with pytest.raises(RowError, match=needle) as e:
        list(rows)
    assert e.value.line == line


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        list(jsonl_values(tmp_path / "nope.jsonl"))


def test_non_finite_field_names_the_dotted_path() -> None:
    assert non_finite_field({"a": 1, "b": [0.5, {"c": math.nan}]}) == "b[1].c"
    assert non_finite_field({"x": {"y": (1.0, math.inf)}}) == "x.y[1]"
    assert non_finite_field(-math.inf) == "(value)"
    assert non_finite_field({"a": 1.0, "b": "nan", "c": None, "d": [True, 3]}) is None


def test_results_files_and_sample_logs_keep_the_rule(tmp_path: Path) -> None:
    """results.json and a sample log refuse NaN, naming the file (and a log's line); task data
    files are covered by tests/test_bad_input_corpus.py (row-nan, row-infinity)."""
    from eval_anything.core.results_files import ResultsFileError, read_results

    (tmp_path / "results.json").write_text('{"schema_version": 1,\n "x": NaN}\n')
    with pytest.raises(ResultsFileError, match=r"results\.json: NaN"):
        read_results(tmp_path)

    from eval_anything.core.results_files import iter_sample_records

    log = tmp_path / "log.jsonl"
    good = '{"sample_id": "a", "input_ref": "r", "prompt_hash": "h"}'
    bad = '{"sample_id": "b", "input_ref": "r", "prompt_hash": "h", "scores": ' \
          '{"s": {"value": NaN}}}'
    log.write_text(f"{good}\n{bad}\n{good}\n")
    with pytest.raises(ResultsFileError, match=r"log\.jsonl:2: .*NaN"):
        list(iter_sample_records(log))
