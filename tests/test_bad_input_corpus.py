"""The bad-input corpus: every case is something a new user could type or hand us, and each must
end with one line naming the file or flag, the documented exit code, no traceback, and no output
folder left behind (HTTP faults, which happen after the run has started, must instead end with
exit 3, a summary naming the fault, and a folder that a rerun resumes).

Cases run in-process through the real CLI (typer's runner); the HTTP ones talk to a real server
on 127.0.0.1 (tests/faulty_server.py).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from faulty_server import FaultyServer
from PIL import Image
from typer.testing import CliRunner

from eval_anything.cli import app
from eval_anything.errors import EXIT_ENVIRONMENT, EXIT_ITEMS_FAILED, EXIT_USER

TASK = (
    "task: corpus\nsource: {jsonl: data.jsonl}\nloader: {name: LOADER}\n"
    "scorers: [{name: exact_match}]\n"
)
ESCAPE = "{{ text.__class__.__mro__[1].__subclasses__() }}"  # the sandbox must block it
QA_ROWS = [{"id": "1", "question": "one?", "answer": "x"}, {"id": "2", "question": "two?"}]


@dataclass
class Case:
    """``make(tmp)`` writes the inputs and returns the CLI arguments."""

    name: str
    make: Callable[[Path], list[str]]
    needles: tuple[str, ...]
    code: int = EXIT_USER


def task_dir(tmp: Path, rows: list | str | bytes = QA_ROWS, yaml: str | None = None,
             loader: str = "qa") -> Path:
    folder = tmp / "tasks"
    folder.mkdir(parents=True, exist_ok=True)
    text = (yaml if yaml is not None else TASK).replace("LOADER", loader)
    (folder / "task.yaml").write_text(text)
    data = folder / "data.jsonl"
    if isinstance(rows, bytes):
        data.write_bytes(rows)
    elif isinstance(rows, str):
        data.write_text(rows)
    else:
        data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def run_args(tmp: Path, *extra: str, model_args: str = "default=x", task: str = "corpus",
             out: str = "out") -> list[str]:
    return ["run", "--model", "scripted", "--model-args", model_args, "--tasks", task,
            "--include-path", str(tmp / "tasks"), "--output-dir", str(tmp / out),
            "--no-cache", "--quiet", *extra]


def task_case(name: str, needles: tuple[str, ...], rows: list | str | bytes = QA_ROWS,
              yaml: str | None = None, loader: str = "qa") -> Case:
    def make(tmp: Path) -> list[str]:
        task_dir(tmp, rows, yaml, loader)
        return run_args(tmp)

    return Case(name, make, needles)


def flag_case(name: str, needles: tuple[str, ...], *extra: str, model_args: str = "default=x",
              task: str = "corpus") -> Case:
    def make(tmp: Path) -> list[str]:
        task_dir(tmp)
        return run_args(tmp, *extra, model_args=model_args, task=task)

    return Case(name, make, needles)


# ---------------------------------------------------------------- media

def png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4), (0, 128, 0)).save(path)
    return path


def media_case(name: str, needles: tuple[str, ...], kind: str,
               place: Callable[[Path], str]) -> Case:
    def make(tmp: Path) -> list[str]:
        folder = tmp / "tasks"
        folder.mkdir(parents=True, exist_ok=True)
        rel = place(tmp)
        row = {"id": "m1", "input": [{"type": kind, "path": rel}, {"type": "text", "text": "q"}],
               "target": "x"}
        task_dir(tmp, [row], loader="sample")
        return run_args(tmp)

    return Case(name, make, needles)


def _outside_png(tmp: Path) -> str:
    png(tmp / "elsewhere" / "real.png")
    return "../elsewhere/real.png"


def _symlink_out(tmp: Path) -> str:
    target = png(tmp / "elsewhere" / "real.png")
    (tmp / "tasks" / "link.png").symlink_to(target)
    return "link.png"


def _text_as(suffix: str) -> Callable[[Path], str]:
    def place(tmp: Path) -> str:
        (tmp / "tasks" / f"fake{suffix}").write_text("this is text, not media\n")
        return f"fake{suffix}"

    return place


def _empty_frames(tmp: Path) -> str:
    (tmp / "tasks" / "frames").mkdir()
    return "frames"


# ---------------------------------------------------------------- finished runs (gate, push)

@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("good")
    task_dir(root, [{"id": str(i), "question": f"q{i}", "answer": "x"} for i in range(6)])
    result = CliRunner().invoke(app, run_args(root, out="run"))
    assert result.exit_code == 0, result.output
    return root / "run"


def broken_run(mutate: Callable[[Path], None]) -> Callable[[Path, Path], Path]:
    def build(tmp: Path, good: Path) -> Path:
        copy = tmp / "broken"
        shutil.copytree(good, copy)
        mutate(copy)
        return copy

    return build


def _truncate_results(run: Path) -> None:
    text = (run / "results.json").read_text()
    (run / "results.json").write_text(text[: len(text) // 2])


def _garbage_samples(run: Path) -> None:
    (run / "samples" / "corpus.jsonl").write_text("garbage\nmore garbage\n")


def _list_results(run: Path) -> None:
    (run / "results.json").write_text("[1, 2]")


def _future_schema(run: Path) -> None:
    data = json.loads((run / "results.json").read_text())
    data["schema_version"] = 99
    (run / "results.json").write_text(json.dumps(data))


def _no_results(run: Path) -> None:
    (run / "results.json").unlink()


def _bad_line_in_middle(run: Path) -> None:
    log = run / "samples" / "corpus.jsonl"
    lines = log.read_text().splitlines()
    lines.insert(2, '{"sample_id": 5}')
    log.write_text("\n".join(lines) + "\n")


RUN_BREAKS = {
    "truncated-results": (_truncate_results, ("results.json", "not valid JSON")),
    "garbage-samples": (_garbage_samples, ("corpus.jsonl:1", "not a sample record")),
    "results-not-object": (_list_results, ("results.json", "expected a JSON object")),
    "future-schema": (_future_schema, ("results.json", "schema_version")),
    "no-results": (_no_results, ("results.json",)),
    "bad-middle-line": (_bad_line_in_middle, ("corpus.jsonl:3",)),
}


# ---------------------------------------------------------------- the corpus

YAML_CASES = [
    task_case("yaml-syntax", ("task.yaml",), yaml="task: [unclosed\n"),
    task_case("yaml-not-utf8", ("task.yaml",), yaml="task: caf\udce9\n".encode(
        "utf-8", "surrogateescape").decode("latin-1")),
    task_case("yaml-top-level-list", ("task.yaml",), yaml="- a\n- b\n"),
    task_case("yaml-unknown-field", ("task.yaml", "scorer_args"), yaml=TASK + "scorer_args: {}\n"),
    task_case("yaml-unknown-scorer", ("task.yaml", "exact_matc"),
              yaml=TASK.replace("exact_match", "exact_matc")),
    task_case("yaml-unknown-loader", ("task.yaml", "loader"), loader="nosuchloader"),
    task_case("yaml-no-source", ("task.yaml", "source"),
              yaml="task: corpus\nscorers: [{name: exact_match}]\n"),
    task_case("yaml-two-sources", ("task.yaml", "exactly one"),
              yaml=TASK.replace("{jsonl: data.jsonl}", "{jsonl: data.jsonl, hf: {path: x}}")),
    task_case("yaml-missing-data-file", ("task.yaml", "source.jsonl"),
              yaml=TASK.replace("data.jsonl", "nope.jsonl")),
    task_case("template-syntax", ("task.yaml", "prompt"),
              yaml=TASK + "prompt: {template: '{{ text '}\n"),
    task_case("template-sandbox-escape", ("task.yaml", "prompt", "sample '1'"),
              yaml=TASK + 'prompt: {template: "' + ESCAPE + '"}\n'),
    task_case("template-unknown-filter", ("task.yaml", "prompt"),
              yaml=TASK + "prompt: {template: '{{ text | nosuchfilter }}'}\n"),
    task_case("system-template-error", ("task.yaml", "prompt"),
              yaml=TASK + "prompt: {system: '{% for %}'}\n"),
    task_case("mc-without-choices", ("task.yaml", "choices"),
              yaml=TASK + "request: multiple_choice\n"),
    task_case("no-scorers", ("task.yaml", "scorers"), yaml=TASK.replace(
        "scorers: [{name: exact_match}]", "scorers: []")),
]

ROW_CASES = [
    task_case("row-is-list", ("data.jsonl:2", "JSON object"),
              rows='{"id": "1", "question": "q"}\n[1, 2]\n'),
    task_case("row-is-string", ("data.jsonl:1", "JSON object"), rows='"just text"\n'),
    task_case("row-is-number", ("data.jsonl:1", "JSON object"), rows="42\n"),
    task_case("row-not-json", ("data.jsonl:2", "not valid JSON"),
              rows='{"id": "1", "question": "q"}\n{oops\n'),
    task_case("row-nan", ("data.jsonl:1", "NaN"),
              rows='{"id": "1", "question": "q", "answer": NaN}\n'),
    task_case("row-infinity", ("data.jsonl:1", "Infinity"),
              rows='{"id": "1", "question": "q", "score": -Infinity}\n'),
    task_case("row-duplicate-id", ("duplicate sample id",), rows=[QA_ROWS[0], QA_ROWS[0]]),
    task_case("row-missing-question", ("row 1", "question"), rows=[QA_ROWS[0], {"id": "2"}]),
    task_case("data-empty", ("no samples",), rows=""),
    task_case("data-not-utf8", ("data.jsonl", "UTF-8"),
              rows=b'{"id": "1", "question": "caf\xe9"}\n'),
    task_case("sample-bad-part-type", ("row 0", "loader 'sample'"),
              rows=[{"id": "1", "input": [{"type": "smell", "text": "q"}]}], loader="sample"),
    task_case("sample-part-two-sources", ("row 0",), loader="sample",
              rows=[{"id": "1", "input": [{"type": "image", "path": "a.png", "data": "AAAA"}]}]),
]

MEDIA_CASES = [
    media_case("media-dotdot-passwd", ("input[0].path", "outside the dataset folder"), "video",
               lambda tmp: "../../../../../../../../etc/passwd"),
    media_case("media-absolute-outside", ("input[0].path", "outside the dataset folder"),
               "image", lambda tmp: str(png(tmp / "elsewhere" / "abs.png"))),
    media_case("media-relative-real-png-outside", ("outside the dataset folder",), "image",
               _outside_png),
    media_case("media-symlink-out", ("link.png", "outside the dataset folder"), "image",
               _symlink_out),
    media_case("media-missing", ("input[0].path", "not found"), "image", lambda tmp: "gone.png"),
    media_case("media-text-as-png", ("fake.png", "not a readable image"), "image",
               _text_as(".png")),
    media_case("media-text-as-wav", ("fake.wav", "not a readable audio"), "audio",
               _text_as(".wav")),
    media_case("media-text-as-mp4", ("fake.mp4", "not a readable video"), "video",
               _text_as(".mp4")),
    media_case("media-empty-frame-folder", ("frames", "not a readable video"), "video",
               _empty_frames),
]

FLAG_CASES = [
    flag_case("limit-zero", ("--limit 0",), "--limit", "0"),
    flag_case("limit-negative", ("--limit -1",), "--limit", "-1"),
    flag_case("limit-not-int", ("Invalid value for '--limit'",), "--limit", "ten"),
    flag_case("batch-size-zero", ("--batch-size 0",), "--batch-size", "0"),
    flag_case("model-args-no-equals", ("--model-args", "key=value"), model_args="default"),
    flag_case("model-args-unknown-key", ("--model-args", "defualt", "did you mean default"),
              model_args="defualt=x"),
    flag_case("model-args-wrong-type", ("--model-args delay=slow", "float"),
              model_args="default=x,delay=slow"),
    flag_case("model-args-twice", ("--model-args", "twice"), model_args="default=x,default=y"),
    flag_case("model-args-missing-script", ("script=nope.json",), model_args="script=nope.json"),
    flag_case("unknown-model", ("--model", "scripted"), "--model", "scriptd"),
    flag_case("unknown-task", ("corpuz",), task="corpuz"),
    flag_case("judge-malformed", ("--judge", "ROLE=BINDING"), "--judge", "judge"),
    flag_case("shard-malformed", ("--shard",), "--shard", "one/two"),
    flag_case("shard-out-of-range", ("--shard",), "--shard", "4/2"),
    flag_case("fail-on-error-bad", ("--fail-on-error",), "--fail-on-error", "many"),
    flag_case("lineage-bad", ("--lineage",), "--lineage", "nostep"),
]


def _output_dir_is_file(tmp: Path) -> list[str]:
    task_dir(tmp)
    (tmp / "out").write_text("a file")
    return run_args(tmp)


def _output_dir_under_file(tmp: Path) -> list[str]:
    task_dir(tmp)
    (tmp / "plain").write_text("a file")
    return run_args(tmp, out="plain/run")


def _unbound_judge_kind(tmp: Path) -> list[str]:
    yaml = TASK.replace("exact_match", "pairwise_vs_reference")
    task_dir(tmp, yaml=yaml)
    return [*run_args(tmp), "--judge", "judge=nosuchjudge"]


def _cache_not_sqlite(tmp: Path) -> list[str]:
    task_dir(tmp)
    (tmp / "cache.sqlite").write_text("not a database\n" * 200)
    args = run_args(tmp)
    args.remove("--no-cache")
    return [*args, "--cache-path", str(tmp / "cache.sqlite")]


OUTPUT_CASES = [
    Case("output-dir-is-file", _output_dir_is_file, ("--output-dir", "is a file")),
    Case("output-dir-under-file", _output_dir_under_file, ("--output-dir", "is a file")),
    Case("cache-not-sqlite", _cache_not_sqlite, ("cache.sqlite", "not an intact SQLite"),
         EXIT_ENVIRONMENT),
]


def _store_not_sqlite(tmp: Path, good: Path) -> list[str]:
    (tmp / "store.sqlite").write_text("this is not a database, just text\n" * 100)
    return ["push", str(good), "--store", str(tmp / "store.sqlite")]


def _store_folder(tmp: Path, good: Path) -> list[str]:
    (tmp / "adir").mkdir()
    return ["push", str(good), "--store", str(tmp / "adir")]


STORE_CASES: list[tuple[str, Callable[[Path, Path], list[str]], tuple[str, ...], int]] = [
    ("store-not-sqlite", _store_not_sqlite, ("store.sqlite", "not an intact SQLite"),
     EXIT_ENVIRONMENT),
    ("store-is-folder", _store_folder, ("adir",), EXIT_ENVIRONMENT),
]


def _trainer(yaml: str | None, needles: tuple[str, ...], name: str) -> Case:
    def make(tmp: Path) -> list[str]:
        cfg = tmp / "cfg.yaml"
        if yaml is not None:
            cfg.write_text(yaml)
        (tmp / "rows.jsonl").write_text('[1, 2]\n"text"\n')
        return ["train", "sft", "--config", str(cfg)]

    return Case(name, make, needles)


GOOD_TRAIN = (
    "algorithm: sft\nmodel: {path: smollm2}\ndata: {train: rows.jsonl, format: feedback}\n"
    "training: {output_dir: OUT, max_steps: 1}\n"
)
TRAINER_CASES = [
    _trainer(None, ("--config", "cfg.yaml"), "train-config-missing"),
    _trainer("algorithm: sft\nmodel: [unclosed\n", ("cfg.yaml", "YAML"), "train-config-syntax"),
    _trainer("- a list\n", ("cfg.yaml",), "train-config-not-mapping"),
    _trainer(GOOD_TRAIN + "trainig: {}\n", ("cfg.yaml", "trainig"), "train-config-unknown-key"),
    _trainer(GOOD_TRAIN.replace("max_steps: 1", "max_steps: many"), ("cfg.yaml", "max_steps"),
             "train-config-wrong-type"),
    _trainer(GOOD_TRAIN.replace("format: feedback", "format: nosuch"),
             ("cfg.yaml", "data.format", "nosuch"), "train-data-unknown-format"),
    _trainer(GOOD_TRAIN.replace("rows.jsonl", "missing.jsonl"), ("data.train", "missing.jsonl"),
             "train-data-missing"),
    _trainer(GOOD_TRAIN, ("rows.jsonl", "row 0", "JSON object"), "train-data-rows-not-objects"),
]

def _yaml_latin1_bytes(tmp: Path) -> list[str]:
    task_dir(tmp)
    (tmp / "tasks" / "task.yaml").write_bytes(TASK.replace("corpus", "corpus # caf\xe9", 1)
                                              .replace("LOADER", "qa").encode("latin-1"))
    return run_args(tmp)


def _judge_role_typo(tmp: Path) -> list[str]:
    task_dir(tmp, yaml=TASK.replace("exact_match", "pairwise_vs_reference"))
    return [*run_args(tmp), "--judge", "judge=keyword", "--judge", "jduge=keyword"]


def _push_to(store: Callable[[Path], str]) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        task_dir(tmp)
        return [*run_args(tmp), "--push", "--store", store(tmp)]

    return make


def _not_sqlite(tmp: Path) -> str:
    (tmp / "store.sqlite").write_text("this is not a database, just text\n" * 100)
    return str(tmp / "store.sqlite")


def _a_folder(tmp: Path) -> str:
    (tmp / "adir").mkdir()
    return str(tmp / "adir")


INPUT_GAP_CASES = [
    Case("yaml-latin1-bytes", _yaml_latin1_bytes, ("task.yaml", "not UTF-8")),
    flag_case("judge-role-no-task-has", ("--judge image_judge=analyzer", "no selected task",
                                         "corpus", "need no judge"),
              "--judge", "image_judge=analyzer"),
    Case("judge-role-typo", _judge_role_typo, ("--judge jduge=keyword", "'jduge'",
                                               "judge roles are judge")),
    Case("run-push-store-not-sqlite", _push_to(_not_sqlite),
         ("store.sqlite", "not an intact SQLite"), EXIT_ENVIRONMENT),
    Case("run-push-store-is-folder", _push_to(_a_folder), ("adir",), EXIT_ENVIRONMENT),
    Case("run-push-store-unreachable",
         _push_to(lambda tmp: "postgresql://nobody@127.0.0.1:1/leaderboard"),
         ("store postgresql", "127.0.0.1:1"), EXIT_ENVIRONMENT),
    Case("run-push-store-malformed-url", _push_to(lambda tmp: "nosuchdb://host/x"),
         ("--store nosuchdb://host/x", "sqlite:///PATH")),
    Case("run-push-store-bad-port", _push_to(lambda tmp: "postgresql://u@host:port/db"),
         ("--store", "host:port")),
]

ALL_CASES = [*YAML_CASES, *ROW_CASES, *MEDIA_CASES, *FLAG_CASES, *OUTPUT_CASES, *TRAINER_CASES,
             *INPUT_GAP_CASES,
             Case("judge-unknown-kind", _unbound_judge_kind, ("--judge", "nosuchjudge"))]


def _check(result: object, code: int, needles: tuple[str, ...]) -> None:
    out = result.stderr  # type: ignore[attr-defined]
    assert result.exit_code == code, (result.output, result.exception)  # type: ignore[attr-defined]
    assert isinstance(result.exception, SystemExit), result.exception  # type: ignore[attr-defined]
    usage = "Invalid value for" in out  # typer's own check of a flag's type (also exit 2)
    assert (out.startswith("error: ") or usage) and "Traceback" not in out, out
    for n in needles:
        assert n in out, (n, out)


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.name)
def test_bad_input(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = case.make(tmp_path)
    result = CliRunner().invoke(app, args)
    _check(result, case.code, case.needles)
    assert not (tmp_path / "out").is_dir() and not (tmp_path / "runs").exists()
    for cfg in tmp_path.glob("cfg.yaml"):
        assert not (tmp_path / "OUT").exists(), cfg


@pytest.mark.parametrize("command", ["gate", "push"])
@pytest.mark.parametrize("brk", sorted(RUN_BREAKS))
def test_unreadable_run(brk: str, command: str, good_run: Path, tmp_path: Path) -> None:
    mutate, needles = RUN_BREAKS[brk]
    broken = broken_run(mutate)(tmp_path, good_run)
    store = tmp_path / "store.sqlite"
    if command == "gate":
        args = ["gate", "--baseline", str(good_run), "--candidate", str(broken)]
    else:
        args = ["push", str(broken), "--store", str(store)]
    result = CliRunner().invoke(app, args)
    _check(result, EXIT_USER, needles)
    if command == "push":
        assert not store.exists(), "nothing is written when a run is unreadable"


@pytest.mark.parametrize("case", STORE_CASES, ids=lambda c: c[0])
def test_bad_store(case: tuple, good_run: Path, tmp_path: Path) -> None:
    _, make, needles, code = case
    result = CliRunner().invoke(app, make(tmp_path, good_run))
    _check(result, code, needles)


def test_gate_missing_folder(tmp_path: Path, good_run: Path) -> None:
    result = CliRunner().invoke(
        app, ["gate", "--baseline", str(good_run), "--candidate", str(tmp_path / "nope")])
    _check(result, EXIT_USER, ("nope",))


# ---------------------------------------------------------------- HTTP faults

HTTP_FAULTS = {
    "429-retry-after": ({"mode": "status", "status": 429, "retry_after": "0"}, "HTTP 429"),
    "500-echoing-key": ({"mode": "status", "status": 500}, "HTTP 500"),
    "401-unauthorized": ({"mode": "status", "status": 401}, "api_key_env"),
    "hang": ({"mode": "hang"}, "timed out"),
    "malformed-json": ({"mode": "malformed"}, "not JSON"),
    "dropped-connection": ({"mode": "drop"}, "connection"),
}


@pytest.mark.parametrize("fault", sorted(HTTP_FAULTS))
def test_http_fault(fault: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, needle = HTTP_FAULTS[fault]
    secret = "sk-corpus-0123456789abcdef"
    monkeypatch.setenv("CORPUS_KEY", secret)
    task_dir(tmp_path)
    with FaultyServer(**settings) as srv:
        model_args = (f"model=m,base_url={srv.base_url},api_key_env=CORPUS_KEY,max_retries=1,"
                      "backoff_base=0.01,max_backoff=0.01,timeout=0.5")
        args = ["run", "--model", "openai", "--model-args", model_args, "--tasks", "corpus",
                "--include-path", str(tmp_path / "tasks"), "--output-dir", str(tmp_path / "out"),
                "--no-cache", "--quiet"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == EXIT_ITEMS_FAILED, (result.output, result.exception)
        assert "2 of 2 items failed" in result.stderr and needle in result.stderr, result.stderr
        assert secret not in result.output + result.stderr
        assert not any(secret.encode() in p.read_bytes()
                       for p in (tmp_path / "out").rglob("*") if p.is_file())
        srv.mode = "ok"
        again = CliRunner().invoke(app, args)
        assert again.exit_code == 0, again.output


def test_corpus_size() -> None:
    n = (len(ALL_CASES) + 2 * len(RUN_BREAKS) + len(STORE_CASES) + 1 + len(HTTP_FAULTS))
    assert n >= 60, n


def test_permission_denied_is_one_line(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes through folder permissions")
    task_dir(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = CliRunner().invoke(app, run_args(tmp_path, out="locked/run"))
    finally:
        locked.chmod(0o700)
    _check(result, EXIT_ENVIRONMENT, ("permission denied",))


def test_store_copies_only_media_that_pass(good_run: Path, tmp_path: Path) -> None:
    """An edited sample log cannot carry files from outside into the store: an output path that
    leaves the run folder, and an input that does not decode as the media it claims, are kept
    as references only; a real image inside the run folder is copied."""
    import sqlite3

    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    png(run / "media" / "corpus" / "ok.png")
    png(tmp_path / "outside.png")
    log = run / "samples" / "corpus.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    records[0]["input"] = [{"type": "video", "path": "/etc/passwd"}]
    records[1]["output"] = [{"type": "image", "path": "../outside.png"}]
    records[2]["output"] = [{"type": "image", "path": "media/corpus/ok.png"}]
    log.write_text("".join(json.dumps(r) + "\n" for r in records))
    store = tmp_path / "store.sqlite"
    result = CliRunner().invoke(app, ["push", str(run), "--store", str(store)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(store) as db:
        paths = [p for (p,) in db.execute("SELECT path FROM run_media")]
    assert paths == ["media/corpus/ok.png"]


def test_model_args_are_typed_by_the_adapter_signature(tmp_path: Path) -> None:
    """``default=2`` for the scripted adapter (``default: str``) stays the string "2"."""
    from eval_anything.model_args import split_model_args, typed_model_args
    from eval_anything.models.scripted import ScriptedModel

    args = typed_model_args(ScriptedModel, split_model_args("default=2,delay=0.5,name=7"))
    assert args == {"default": "2", "delay": 0.5, "name": "7"}
    task_dir(tmp_path, [{"id": "1", "question": "q", "answer": "2"}])
    result = CliRunner().invoke(app, run_args(tmp_path, model_args="default=2"))
    assert result.exit_code == 0, result.output
    from eval_anything.core.results_files import read_results

    assert read_results(tmp_path / "out").tasks["corpus"].metrics["exact_match"].value == 1.0


@pytest.mark.parametrize("value", ["trio", "uvloop-missing"])
def test_a_wrong_event_loop_choice_stops_a_served_run_before_any_file(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    if value == "uvloop-missing":  # asked for by name where it is not installed
        import importlib.util

        real = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *a: None if name == "uvloop" else real(name, *a))
        value = "uvloop"
    monkeypatch.setenv("EVAL_ANYTHING_EVENT_LOOP", value)
    task_dir(tmp_path)
    args = run_args(tmp_path, model_args="base_url=http://127.0.0.1:9/v1,model=m")
    args[args.index("scripted")] = "openai"
    result = CliRunner().invoke(app, args)
    _check(result, EXIT_USER, ("EVAL_ANYTHING_EVENT_LOOP", value))
    assert not (tmp_path / "out").exists()
