"""`eval-anything agreement`: judged runs against human labels, and judges against annotators'
preferences. Every figure is checked against scipy / scikit-learn / krippendorff on the same
pairs, with judges whose verdicts are known (scripted, or a rule)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pytest
from scipy import stats as sps
from sklearn.metrics import accuracy_score, cohen_kappa_score
from typer.testing import CliRunner

from eval_anything import evaluate
from eval_anything.cli import app
from eval_anything.judges.calibration import agreement_with_labels
from eval_anything.stats import agreement as stats

LABELS_DIR = Path(__file__).resolve().parents[1] / "tasks" / "mini" / "labels"
SHIPPED_LABELS = LABELS_DIR / "labels.jsonl"
RESPONSES = LABELS_DIR / "responses.jsonl"
FEW = 200  # bootstrap resamples in tests: enough for an interval, quick on two cores


def jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def shipped(task: str) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in SHIPPED_LABELS.read_text("utf-8").splitlines()]
    return [r for r in rows if r["task"] == task]


def if_text_prompts() -> dict[str, str]:
    data = LABELS_DIR.parent / "eval_anything" / "data" / "if_text.jsonl"
    rows = [json.loads(line) for line in data.read_text("utf-8").splitlines()]
    return {r["prompt_id"]: r["prompt"] for r in rows}


def judged_if_text_run(tmp_path: Path, name: str, verdicts: dict[str, str]) -> Path:
    """mini_amg_if_text answered with the shipped responses and judged by a scripted judge
    that writes ``verdicts[sample id]`` for each item (no verdict -> the item is unscored)."""
    prompts = if_text_prompts()
    script = {prompts[sid]: text for sid, text in verdicts.items()}
    judge = tmp_path / f"{name}-judge.json"
    judge.write_text(json.dumps(script), "utf-8")
    run = tmp_path / name
    evaluate("scripted", "mini_amg_if_text", model_args={"script": str(RESPONSES)},
             judges={"judge": f"scripted:{judge}"}, output_dir=run, cache_path=None,
             progress=False)
    return run


def assert_in_ci(fig: stats.Figure) -> None:
    assert fig.value is not None and fig.ci_low is not None and fig.ci_high is not None
    assert fig.ci_low - 1e-9 <= fig.value <= fig.ci_high + 1e-9


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["agreement", *args])


# ---------------------------------------------------------------------- labels: ratings


RATINGS = [8, 4, 9, 10, 2, 9, 5, 7, 3, 6, 1, 9, 10, 6, 8, 5, 3, 10, 2]  # judge, items 1-19


@pytest.fixture()
def rated_run(tmp_path: Path) -> Path:
    ids = [f"if-text-{k:03d}" for k in range(1, 21)]
    verdicts = {sid: f"Checked. Rating: [[{r}]]" for sid, r in zip(ids, RATINGS, strict=False)}
    verdicts[ids[19]] = "I would rather not say."  # no verdict: unscored
    return judged_if_text_run(tmp_path, "rated", verdicts)


def test_rating_figures_equal_scipy_and_sklearn(rated_run: Path) -> None:
    report = agreement_with_labels([rated_run], SHIPPED_LABELS, resamples=FEW)
    entry = report.tasks["mini_amg_if_text"].headline
    human = np.array([r["label"] for r in shipped("mini_amg_if_text")][:19], dtype=float)
    judge = np.array(RATINGS, dtype=float)
    assert entry.kind == "rating" and entry.score == "instruction_following"
    assert (entry.n, entry.n_unscored, entry.n_unmatched, entry.n_labels) == (19, 1, 0, 20)
    assert entry.judges and entry.judges[0].startswith("llm:scripted:")
    f = entry.figures
    assert f["spearman"].value == pytest.approx(sps.spearmanr(judge, human).statistic)
    assert f["kendall_tau_b"].value == pytest.approx(sps.kendalltau(judge, human).statistic)
    assert f["kappa_quadratic"].value == pytest.approx(cohen_kappa_score(
        judge.astype(int), human.astype(int), labels=list(range(1, 11)), weights="quadratic"))
    assert f["exact"].value == pytest.approx(accuracy_score(human, judge))
    assert f["within_1"].value == pytest.approx(np.mean(np.abs(judge - human) <= 1))
    assert f["mean_bias"].value == pytest.approx(np.mean(judge - human))
    for fig in f.values():
        assert_in_ci(fig)


def test_the_bootstrap_is_seeded(rated_run: Path) -> None:
    a = agreement_with_labels([rated_run], SHIPPED_LABELS, resamples=100, seed=3)
    b = agreement_with_labels([rated_run], SHIPPED_LABELS, resamples=100, seed=3)
    c = agreement_with_labels([rated_run], SHIPPED_LABELS, resamples=100, seed=4)
    assert a.to_json() == b.to_json()
    fa = a.tasks["mini_amg_if_text"].headline.figures["spearman"]
    fc = c.tasks["mini_amg_if_text"].headline.figures["spearman"]
    assert fa.value == fc.value and (fa.ci_low, fa.ci_high) != (fc.ci_low, fc.ci_high)


def test_json_shape_and_table(rated_run: Path, tmp_path: Path) -> None:
    labels = jsonl(tmp_path / "labels.jsonl", [
        *shipped("mini_amg_if_text"),
        {"task": "mini_amg_if_text", "sample_id": "no-such-item", "label": 5},
        {"task": "mini_amu", "sample_id": "amu-mini-001", "label": 5},
    ])
    result = invoke(str(rated_run), "--labels", str(labels), "--json", "--resamples", "50")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert list(out) == ["tasks"] and list(out["tasks"]) == ["mini_amg_if_text", "mini_amu"]
    entry = out["tasks"]["mini_amg_if_text"]
    assert (entry["n"], entry["n_unscored"], entry["n_unmatched"]) == (19, 1, 1)
    for name in stats.RATING_FIGURES:
        assert set(entry[name]) == {"value", "ci_low", "ci_high"}
    assert "scores" not in entry
    assert out["tasks"]["mini_amu"]["n"] == 0 and out["tasks"]["mini_amu"]["n_unmatched"] == 1
    assert "1 labelled item(s) have no judge verdict" in result.stderr
    table = invoke(str(rated_run), "--labels", str(labels), "--resamples", "50")
    assert table.exit_code == 0 and "kappa_quadratic" in table.stdout
    assert "mini_amu" in table.stdout and "match no sample" in table.stderr


def test_binary_labels_on_a_judge_that_gives_only_the_ends_of_the_scale(
    tmp_path: Path,
) -> None:
    ids = [f"if-text-{k:03d}" for k in range(1, 13)]
    judge_says = [10, 10, 1, 10, 1, 1, 10, 1, 10, 10, 1, 10]
    human = [1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0]
    run = judged_if_text_run(tmp_path, "binary", {
        sid: f"Rating: [[{v}]]" for sid, v in zip(ids, judge_says, strict=True)})
    labels = jsonl(tmp_path / "binary.jsonl", [
        {"task": "mini_amg_if_text", "sample_id": sid, "label": h}
        for sid, h in zip(ids, human, strict=True)])
    entry = agreement_with_labels([run], labels, resamples=FEW).tasks["mini_amg_if_text"]
    judged = [int(v == 10) for v in judge_says]
    assert entry.headline.kind == "binary" and entry.headline.n == 12
    figs = entry.headline.figures
    assert set(figs) == {"accuracy", "kappa"}
    assert figs["accuracy"].value == pytest.approx(accuracy_score(human, judged))
    assert figs["kappa"].value == pytest.approx(cohen_kappa_score(judged, human))
    assert_in_ci(figs["accuracy"])
    assert_in_ci(figs["kappa"])


# ---------------------------------------------------------------------- labels: pairwise


def two_score_task(folder: Path) -> str:
    """A task judged twice by the ``judge`` role: a 1-10 instruction-following rating and a
    pairwise preference of the model's answer over the reference (``win_rate``)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"id": f"q{k}", "target": f"ref-q{k}",
             "input": [{"type": "text", "text": f"Question number {k}?"}]} for k in range(8)]
    jsonl(folder / "pairs.jsonl", rows)
    (folder / "tiny_pairwise.yaml").write_text(
        "task: tiny_pairwise\nversion: '1'\ndescription: two judged scores for tests\n"
        "source: {jsonl: pairs.jsonl}\nloader: {name: sample}\n"
        "generation: {max_new_tokens: 8, temperature: 0.0}\n"
        "scorers:\n  - {name: instruction_following, args: {modality: text}}\n"
        "  - {name: pairwise_vs_reference}\n"
        "primary_metric: instruction_following\nscale: {min: 1, max: 10}\n"
        "input_modalities: [text]\noutput_modalities: [text]\n", "utf-8")
    return "tiny_pairwise"


# per item: (rating, verdict in order model/reference, verdict in order reference/model)
VERDICTS = [(9, "A", "B"), (3, "B", "A"), (7, "C", "C"), (8, "A", "A"), (2, "B", "A"),
            (6, "A", "B"), (5, "B", "B"), (10, "A", "B")]
JUDGE_VALUE = {("A", "B"): "A", ("B", "A"): "B"}  # consistent orders; anything else: tie
PAIR_LABELS = ["A", "B", "A", "tie", "B", "B", "tie", "A"]


@pytest.fixture()
def pairwise_run(tmp_path: Path) -> tuple[Path, Path]:
    tasks = tmp_path / "tasks"
    two_score_task(tasks)
    script: dict[str, str] = {}
    for k, (rating, ab, ba) in enumerate(VERDICTS):
        script[f"ans-q{k}"] = f"Rating: [[{rating}]]"
        script[f"[Response A]\nans-q{k}"] = f"[[{ab}]]"
        script[f"[Response A]\nref-q{k}"] = f"[[{ba}]]"
    judge = tmp_path / "judge.json"
    judge.write_text(json.dumps(script), "utf-8")
    model = tmp_path / "model.json"
    model.write_text(json.dumps({f"Question number {k}?": f"ans-q{k}" for k in range(8)}))
    run = tmp_path / "pairwise-run"
    evaluate("scripted", "tiny_pairwise", model_args={"script": str(model)},
             judges={"judge": f"scripted:{judge}"}, include_paths=[tasks], output_dir=run,
             cache_path=None, progress=False)
    return run, tasks


def test_pairwise_and_rating_labels_of_one_task(pairwise_run: tuple[Path, Path],
                                                tmp_path: Path) -> None:
    run, tasks = pairwise_run
    human_ratings = [8, 2, 7, 9, 4, 4, 6, 9]
    labels = jsonl(tmp_path / "labels.jsonl", [
        *({"task": "tiny_pairwise", "sample_id": f"q{k}", "label": r}
          for k, r in enumerate(human_ratings)),
        *({"task": "tiny_pairwise", "sample_id": f"q{k}", "score": "win_rate", "label": p}
          for k, p in enumerate(PAIR_LABELS)),
    ])
    result = invoke(str(run), "--labels", str(labels), "--include-path", str(tasks), "--json",
                    "--resamples", str(FEW))
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["tasks"]["tiny_pairwise"]
    assert entry["score"] == "instruction_following" and entry["kind"] == "rating"
    assert set(entry["scores"]) == {"instruction_following", "win_rate"}
    ratings = [v[0] for v in VERDICTS]
    assert entry["spearman"]["value"] == pytest.approx(
        sps.spearmanr(ratings, human_ratings).statistic)
    pair = entry["scores"]["win_rate"]
    judged = [JUDGE_VALUE.get((ab, ba), "tie") for _, ab, ba in VERDICTS]
    assert pair["kind"] == "pairwise" and pair["n"] == 8
    assert pair["accuracy"]["value"] == pytest.approx(accuracy_score(PAIR_LABELS, judged))
    assert pair["kappa"]["value"] == pytest.approx(cohen_kappa_score(PAIR_LABELS, judged))
    assert pair["tie_rate"]["value"] == pytest.approx(judged.count("tie") / 8)
    for name in ("accuracy", "kappa", "tie_rate"):
        assert_in_ci(stats.Figure(**pair[name]))


# ---------------------------------------------------------------------- labels: refusals


@pytest.mark.parametrize(("row", "says"), [
    ("not json at all", ":2: not valid JSON"),
    ('{"task": "mini_amg_if_text", "label": 3}', ":2: field 'sample_id' is missing"),
    ('{"task": "mini_amg_if_text", "sample_id": "if-text-002", "label": 12}',
     ":2: field 'label': 12 is off the scale of task 'mini_amg_if_text' (1-10)"),
    ('{"task": "mini_amg_if_text", "sample_id": "if-text-002", "label": "C"}',
     ":2: field 'label': 'C' is not a preference"),
    ('{"task": "mini_amg_if_text", "sample_id": "if-text-002", "label": true}',
     ":2: field 'label' must be a rating"),
    ('{"task": "mini_amg_if_text", "sample_id": "if-text-001", "label": 4}',
     ":2: sample 'if-text-001' of task 'mini_amg_if_text' is labelled again (first on line 1)"),
    ('{"task": "mini_amg_if_text", "sample_id": "if-text-002", "label": 4, "score": "nope"}',
     ":2: field 'score': 'nope' is not a score of task 'mini_amg_if_text'"),
    ('{"task": "mini_amg_if_text", "sample_id": "if-text-002", "label": "A"}',
     ":2: field 'label': 'A' mixes kinds"),
])
def test_bad_label_rows_exit_2_naming_line_and_field(rated_run: Path, tmp_path: Path,
                                                      row: str, says: str) -> None:
    labels = tmp_path / "bad.jsonl"
    first = '{"task": "mini_amg_if_text", "sample_id": "if-text-001", "label": 7}'
    labels.write_text(first + "\n" + row + "\n", "utf-8")
    result = invoke(str(rated_run), "--labels", str(labels), "--resamples", "0")
    assert result.exit_code == 2, result.output
    assert f"{labels}{says}" in result.stderr and result.stdout == ""


def test_several_runs_need_a_run_id_for_a_shared_item(rated_run: Path, tmp_path: Path) -> None:
    other = judged_if_text_run(tmp_path, "other", {"if-text-001": "Rating: [[2]]"})
    labels = jsonl(tmp_path / "l.jsonl", [
        {"task": "mini_amg_if_text", "sample_id": "if-text-001", "label": 3}])
    result = invoke(str(rated_run), str(other), "--labels", str(labels))
    assert result.exit_code == 2 and ":1: sample 'if-text-001'" in result.stderr
    assert 'add "run_id" to the row' in result.stderr
    jsonl(labels, [{"task": "mini_amg_if_text", "sample_id": "if-text-001", "label": 3,
                    "run_id": "other"},
                   {"task": "mini_amg_if_text", "sample_id": "if-text-002", "label": 3,
                    "run_id": "rated"}])
    mixed = invoke(str(rated_run), str(other), "--labels", str(labels))
    assert mixed.exit_code == 2 and "judged by different judges" in mixed.stderr
    jsonl(labels, [{"task": "mini_amg_if_text", "sample_id": "if-text-001", "label": 3,
                    "run_id": "other"}])
    ok = invoke(str(rated_run), str(other), "--labels", str(labels), "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["tasks"]["mini_amg_if_text"]["n"] == 1


def test_items_a_rule_scored_are_left_out(tmp_path: Path) -> None:
    """A text-only model asked for an image gets the rule's 0, not the judge's verdict."""
    run = tmp_path / "image-run"
    evaluate("scripted", "mini_amg_if_image", model_args={"default": "No picture."}, limit=3,
             output_dir=run, cache_path=None, progress=False)
    labels = jsonl(tmp_path / "l.jsonl", [
        {"task": "mini_amg_if_image", "sample_id": f"if-image-{k:03d}", "label": 0}
        for k in (1, 2, 3)])
    entry = agreement_with_labels([run], labels, resamples=0).tasks["mini_amg_if_image"]
    assert (entry.headline.n, entry.headline.n_rule_scored) == (0, 3)


def test_shipped_labels_join_the_shipped_responses_with_the_keyword_judge(
    tmp_path: Path,
) -> None:
    """The labelled set we ship (docs/judges.md quotes these figures)."""
    run = tmp_path / "amu"
    evaluate("scripted", "mini_amu", model_args={"script": str(RESPONSES)}, output_dir=run,
             cache_path=None, progress=False)
    report = agreement_with_labels([run], SHIPPED_LABELS, resamples=FEW)
    amu = report.tasks["mini_amu"].headline
    assert (amu.n, amu.n_unscored, amu.n_unmatched) == (24, 0, 0)
    assert amu.judges == ["keyword:v1"]
    assert round(amu.figures["spearman"].value or 0, 2) == 0.49
    assert round(amu.figures["mean_bias"].value or 0, 2) == 1.49
    assert report.tasks["mini_amg_if_text"].headline.n_unmatched == 20


# ---------------------------------------------------------------------- statistics


def test_krippendorff_alpha_equals_the_package() -> None:
    table: list[list[float | None]] = [[1, 2, 3, 3, 2, 1, 4, 1, 2, None],
                                       [1, 2, 3, 3, 2, 2, 4, 1, 2, 5],
                                       [None, 3, 3, 3, 2, 3, 4, 2, 2, 5]]
    as_nan = np.array([[np.nan if v is None else v for v in row] for row in table],
                      dtype=float)
    for level in ("interval", "ordinal", "nominal"):
        assert stats.krippendorff_alpha(table, level) == pytest.approx(
            krippendorff.alpha(reliability_data=as_nan, level_of_measurement=level))
    fig = stats.krippendorff_alpha_figure(table, "interval", resamples=FEW)
    assert_in_ci(fig)
    with pytest.raises(ValueError, match="choose one of"):
        stats.krippendorff_alpha(table, "ratio-ish")  # type: ignore[arg-type]


def test_undefined_figures_are_none_not_zero() -> None:
    figs = stats.rating_agreement([5, 5, 5, 5], [1, 2, 3, 4], categories=range(1, 11),
                                  resamples=FEW)
    assert figs["spearman"].value is None and figs["kendall_tau_b"].value is None
    assert figs["mean_bias"].value == pytest.approx(2.5)
    half = stats.rating_agreement([6.4, 2.0], [6.5, 2.0], categories=range(1, 11),
                                  resamples=FEW)
    assert half["exact"].value is None and half["kappa_quadratic"].value is None
    empty = stats.choice_agreement([], [], categories=[0, 1])
    assert all(f.value is None for f in empty.values())


def test_order_agreement_by_hand() -> None:
    # pair verdicts: agree on 0, agree on 1, disagree (-> tie), both tie
    figs = stats.order_agreement([0, 1, 0, 2], [0, 1, 1, 2], [0, 0, 1, 1],
                                 categories=[0, 1, 2], tie=2, resamples=0)
    assert figs["accuracy"].value == pytest.approx(1 / 4)
    assert figs["position_consistency"].value == pytest.approx(3 / 4)
    assert figs["tie_rate"].value == pytest.approx(2 / 8)


def test_docs_judge_roles_table_matches_the_catalog() -> None:
    """docs/judges.md lists every judged task of the catalog with its roles, default judges
    and scale, as `eval-anything tasks` reports them."""
    from eval_anything.spec.catalog import load_catalog
    from eval_anything.spec.listing import describe_tasks

    doc = (Path(__file__).resolve().parents[1] / "docs" / "judges.md").read_text("utf-8")
    catalog = load_catalog([])
    rows, _ = describe_tasks([], count=False)
    for row in rows:
        if not row.roles:
            assert f"`{row.name}`" in doc.split("| task |", 1)[0], row.name
            continue
        roles = ", ".join(f"`{r}` = `{b}`" if b else f"`{r}` (bind one)"
                          for r, b in row.roles.items())
        scale = catalog.tasks[row.name].scale
        assert f"| `{row.name}` | {roles} | {scale.label() if scale else '-'} |" in doc, row.name
