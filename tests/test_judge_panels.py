"""Judge panels: several judges bound to one role, their verdicts combined (mean, median,
majority), each member's verdict kept in the sample log, and the panel's Krippendorff's alpha
in results.json equal to the ``krippendorff`` package's on the same table."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import krippendorff
import numpy as np
import pytest

from eval_anything import evaluate
from eval_anything.core.results_files import read_results, read_sample_records
from eval_anything.errors import UserError
from eval_anything.judges.base import JudgeItem, build_judge
from eval_anything.model_args import parse_binding, split_members

LABELS_DIR = Path(__file__).resolve().parents[1] / "tasks" / "mini" / "labels"
RESPONSES = LABELS_DIR / "responses.jsonl"
IDS = [f"if-text-{k:03d}" for k in range(1, 7)]
AGREE_1 = [8, 4, 9, 10, 2, 6]
AGREE_2 = [7, 4, 9, 9, 3, 6]
DISSENT = [2, 9, 3, 1, 10, "no verdict"]  # disagrees on purpose; its last answer has no verdict


def prompts() -> dict[str, str]:
    data = LABELS_DIR.parent / "eval_anything" / "data" / "if_text.jsonl"
    rows = [json.loads(line) for line in data.read_text("utf-8").splitlines()]
    return {r["prompt_id"]: r["prompt"] for r in rows}


def scripted_judge(tmp_path: Path, name: str, ratings: list[int | str]) -> Path:
    p = prompts()
    script = {p[sid]: (f"Fine. Rating: [[{r}]]" if isinstance(r, int) else r)
              for sid, r in zip(IDS, ratings, strict=True)}
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(script), "utf-8")
    return path


def panel_run(tmp_path: Path, combine: str) -> Path:
    a, b, c = (scripted_judge(tmp_path, n, r) for n, r in
               (("a", AGREE_1), ("b", AGREE_2), ("c", DISSENT)))
    run = tmp_path / f"run-{combine}"
    evaluate("scripted", "mini_amg_if_text", model_args={"script": str(RESPONSES)},
             judges={"judge": f"panel:{combine}:scripted:{a}+scripted:{b}+scripted:{c}"},
             limit=len(IDS), output_dir=run, cache_path=None, progress=False)
    return run


def test_split_members_keeps_colons_commas_and_bracketed_plus() -> None:
    text = "keyword+openai:gpt-4o,base_url=http://h:8/v1,stop=[a,b]+[hf:/m/a+b]"
    assert split_members(text) == ["keyword", "openai:gpt-4o,base_url=http://h:8/v1,stop=[a,b]",
                                   "hf:/m/a+b"]
    # two members with the same option: the panel's own binding is not read as key=value items
    b = parse_binding("panel:mean:openai:m,base_url=U+openai:n,base_url=V")
    assert (b.kind, b.rest) == ("panel", "mean:openai:m,base_url=U+openai:n,base_url=V")


def test_panel_mean_keeps_each_verdict_and_alpha_equals_krippendorff(tmp_path: Path) -> None:
    run = panel_run(tmp_path, "mean")
    records = {r.sample_id: r for r in read_sample_records(run, "mini_amg_if_text")}
    table = [AGREE_1, AGREE_2, [*DISSENT[:5], None]]
    for k, sid in enumerate(IDS):
        rec = records[sid].scores["instruction_following"]
        given = [row[k] for row in table if row[k] is not None]
        assert rec.value == pytest.approx(statistics.fmean(given))  # 1-10 scale, no rescaling
        members = rec.details["panel"]
        assert [m["value"] for m in members] == [row[k] for row in table]
        assert rec.details["level"] == "interval"
        assert rec.judge is not None and rec.judge.startswith("panel(mean):")
    result = read_results(run).tasks["mini_amg_if_text"]
    (agreement,) = result.judge_agreement
    expected = krippendorff.alpha(
        reliability_data=np.array(table, dtype=float), level_of_measurement="interval")
    assert agreement.source == "panel" and agreement.statistic == "krippendorff_alpha"
    assert agreement.value == pytest.approx(expected, abs=1e-6)
    assert (agreement.n, agreement.raters, agreement.level) == (6, 3, "interval")
    assert agreement.ci_low is not None and agreement.ci_high is not None
    assert result.lowest_judge_agreement() == agreement.value
    assert result.judges[0].identity.startswith("panel(mean):")


def test_panel_median_and_majority(tmp_path: Path) -> None:
    med = {r.sample_id: r for r in read_sample_records(panel_run(tmp_path, "median"),
                                                      "mini_amg_if_text")}
    assert med[IDS[0]].scores["instruction_following"].value == 7  # median of 8, 7, 2
    assert med[IDS[5]].scores["instruction_following"].value == 6  # 6, 6 (the dissent: none)
    maj = {r.sample_id: r for r in read_sample_records(panel_run(tmp_path, "majority"),
                                                      "mini_amg_if_text")}
    assert maj[IDS[1]].scores["instruction_following"].value == 4  # 4, 4, 9
    split = maj[IDS[0]].scores["instruction_following"]  # 8, 7, 2: no majority
    assert split.value is None and "majority undefined" in (split.unscored_reason or "")


def test_keyword_and_rule_members_combine_nominal_choices(tmp_path: Path) -> None:
    item = JudgeItem(kind="amu", prompt="What is shown?", response="a red dog barks",
                     references=[{"visual_keywords": ["dog", "red"], "auditory_keywords": []}])
    judge = build_judge("panel:majority:keyword+keyword")
    (verdict,) = judge.judge([item])
    assert verdict.value == 10.0 and len(verdict.details["panel"]) == 2


@pytest.mark.parametrize("binding", ["panel:sum:keyword+keyword", "panel:mean:keyword",
                                     "panel:keyword+keyword"])
def test_bad_panel_bindings_name_the_fix(binding: str) -> None:
    with pytest.raises(UserError, match="panel"):
        build_judge(binding)


def test_choice_only_members_are_scored_before_combining() -> None:
    from eval_anything.judges.base import Judge, Judgment
    from eval_anything.judges.panel import PanelJudge

    class Picks(Judge):
        kinds = ("tifa",)

        def __init__(self, letter: str) -> None:
            self.letter = letter

        def identity(self) -> str:
            return f"rule:picks-{self.letter}"

        def judge(self, items: list[JudgeItem]) -> list[Judgment]:
            return [Judgment(None, choice=self.letter) for _ in items]

    item = JudgeItem(kind="tifa", prompt="", metadata={
        "question": "What animal barks?", "choices": ["cat", "dog", "cow"], "answer": "B"})
    panel = PanelJudge([Picks("B"), Picks("B"), Picks("A")], "majority", "test")
    (verdict,) = panel.judge([item])
    assert verdict.value == 10.0 and verdict.details["level"] == "nominal"
    assert [m["value"] for m in verdict.details["panel"]] == [10.0, 10.0, 0.0]
    assert [m["choice"] for m in verdict.details["panel"]] == ["B", "B", "A"]


def test_nominal_panel_alpha_equals_krippendorff() -> None:
    from eval_anything.core.results import SampleRecord, ScoreRecord
    from eval_anything.judges.calibration.consistency import internal_agreement

    table = [[1.0, 0.0, 0.5, 1.0, 0.0, 1.0], [1.0, 0.0, 0.5, 0.0, 0.0, 1.0],
             [0.0, 0.0, 1.0, 1.0, None, 1.0]]
    records = []
    for k in range(6):
        members = [{"judge": f"j{m}", "value": row[k]} for m, row in enumerate(table)]
        score = ScoreRecord(value=0.5, judge="panel(majority):x",
                            details={"panel": members, "level": "nominal"})
        records.append(SampleRecord(sample_id=str(k), input_ref="r", prompt_hash="p",
                                    scores={"pairwise": score}))
    (agreement,) = internal_agreement(records)
    expected = krippendorff.alpha(reliability_data=np.array(table, dtype=float),
                                  level_of_measurement="nominal")
    assert agreement.level == "nominal" and agreement.value == pytest.approx(expected, abs=1e-6)
