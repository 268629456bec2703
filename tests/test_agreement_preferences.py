"""`eval-anything agreement --judge judge=BINDING --preferences DATA`: a judge asked about the
shipped align-anything preference rows of each modality in both orders, by a rule whose accuracy
and position consistency are known exactly (the longer answer wins; equally long ones tie)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sklearn.metrics import accuracy_score, cohen_kappa_score
from test_agreement import FEW, LABELS_DIR, assert_in_ci, invoke, jsonl

from eval_anything import registry
from eval_anything.core.content import TextPart, text_of
from eval_anything.core.outputs import ModelOutput
from eval_anything.core.requests import GenerateRequest
from eval_anything.models.base import ModelAdapter
from eval_anything.stats import agreement as stats

PREFERENCES = LABELS_DIR / "preferences"


class LongerAnswerRule(ModelAdapter):
    """A judge model that prefers the longer response (a tie when equally long) and notes
    which media each request carried."""

    input_modalities: ClassVar[tuple[str, ...]] = ("text", "image", "audio", "video")
    seen: ClassVar[list[set[str]]] = []

    def identity(self) -> dict[str, Any]:
        return {"adapter": "test-longer-answer", "inputs": list(self.input_modalities)}

    def generate(self, requests: list[GenerateRequest]) -> list[ModelOutput]:
        outs = []
        for r in requests:
            content = r.messages[-1].content
            LongerAnswerRule.seen.append({p.type for p in content if p.type != "text"})
            text = text_of(content)
            a = text.split("[Response A]\n", 1)[1].split("\n[End of response A]", 1)[0]
            b = text.split("[Response B]\n", 1)[1].split("\n[End of response B]", 1)[0]
            verdict = "C" if len(a) == len(b) else "A" if len(a) > len(b) else "B"
            outs.append(ModelOutput(parts=[TextPart(text=f"Longer is better. [[{verdict}]]")]))
        return outs


class TextOnlyLongerAnswerRule(LongerAnswerRule):
    input_modalities = ("text",)


@pytest.fixture()
def rule_judges(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule judges' models, registered on a copy of the registry (gone after the test):
    bind them as ``model:test-longer-answer``."""
    registry.names("model")  # built-ins listed before the copy
    monkeypatch.setattr(registry, "_LOADED", {k: dict(v) for k, v in registry._LOADED.items()})
    registry.register("model", "test-longer-answer")(LongerAnswerRule)
    registry.register("model", "test-longer-answer-text-only")(TextOnlyLongerAnswerRule)


def expected_by_rule(path: Path, field: str | None = None) -> tuple[list[int], list[int]]:
    """(the rule judge's verdict, the annotators' choice) per row: 0 first, 1 second, 2 tie."""
    verdicts, human = [], []
    for row in map(json.loads, path.read_text("utf-8").splitlines()):
        base = 0 if "response_0" in row else 1
        a, b = row[f"response_{base}"], row[f"response_{base + 1}"]
        verdicts.append(2 if len(a) == len(b) else 0 if len(a) > len(b) else 1)
        decided = row[field or ("better_response_id" if base == 0 else "overall_response")]
        human.append(0 if decided == base else 1)
    return verdicts, human


@pytest.mark.parametrize("modality", ["text", "image", "audio", "video"])
def test_preference_agreement_of_a_rule_judge_on_each_modality(modality: str,
                                                               rule_judges: None) -> None:
    data = PREFERENCES / f"{modality}.jsonl"
    LongerAnswerRule.seen.clear()
    result = invoke("--judge", "judge=model:test-longer-answer", "--preferences", str(data),
                    "--json", "--resamples", str(FEW), "--no-cache")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["preferences"][str(data)]
    verdicts, human = expected_by_rule(data)
    assert (entry["n"], entry["n_unscored"], entry["kind"]) == (6, 0, "preference")
    # the rows are written so that the longer answer is preferred in 4 of 6, one pair ties
    assert entry["accuracy"]["value"] == pytest.approx(4 / 6)
    assert entry["accuracy"]["value"] == pytest.approx(accuracy_score(human, verdicts))
    assert entry["kappa"]["value"] == pytest.approx(
        cohen_kappa_score(verdicts, human, labels=[0, 1, 2]))
    assert entry["position_consistency"]["value"] == 1.0
    assert entry["tie_rate"]["value"] == pytest.approx(1 / 6)
    for name in ("accuracy", "kappa", "position_consistency", "tie_rate"):
        assert_in_ci(stats.Figure(**entry[name]))
    assert len(LongerAnswerRule.seen) == 12  # both orders of six pairs
    media = set().union(*LongerAnswerRule.seen)
    assert media == (set() if modality == "text" else {modality})


def test_a_position_biased_judge_is_never_consistent() -> None:
    data = PREFERENCES / "text.jsonl"
    result = invoke("--judge", "judge=scripted:default=[[A]]", "--preferences", str(data),
                    "--json", "--resamples", str(FEW), "--no-cache")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["preferences"][str(data)]
    assert entry["position_consistency"]["value"] == 0.0
    assert entry["accuracy"]["value"] == 0.0  # every pair is a tie once both orders are asked
    assert entry["tie_rate"]["value"] == 0.0  # ... yet the judge never said tie itself


def test_preference_field_and_limit_and_unscored_pairs(tmp_path: Path,
                                                       rule_judges: None) -> None:
    data = PREFERENCES / "image.jsonl"
    result = invoke("--judge", "judge=model:test-longer-answer", "--preferences", str(data),
                    "--preference-field", "p_response", "--limit", "4", "--json",
                    "--resamples", "0", "--no-cache")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["preferences"][str(data)]
    verdicts, human = expected_by_rule(data, "p_response")
    assert entry["preference_field"] == "p_response" and entry["n"] == 4
    assert entry["accuracy"]["value"] == pytest.approx(accuracy_score(human[:4], verdicts[:4]))
    judge = tmp_path / "judge.json"  # no verdict for the first pair, in either order
    judge.write_text(json.dumps({"How do I boil an egg?": "Hard to say."}), "utf-8")
    text = PREFERENCES / "text.jsonl"
    partial = invoke("--judge", f"judge=scripted:{judge},default=[[A]]", "--preferences",
                     str(text), "--json", "--resamples", "0", "--no-cache")
    assert partial.exit_code == 0, partial.output
    got = json.loads(partial.stdout)["preferences"][str(text)]
    assert (got["n"], got["n_unscored"], got["n_labels"]) == (5, 1, 6)


def test_preference_refusals_exit_2(tmp_path: Path, rule_judges: None) -> None:
    image = PREFERENCES / "image.jsonl"
    blind = invoke("--judge", "judge=model:test-longer-answer-text-only", "--preferences",
                   str(image), "--no-cache")
    assert blind.exit_code == 2 and "carry image" in blind.stderr
    sft = jsonl(tmp_path / "sft.jsonl", [{"prompt": "Hi", "completion": "Hello"}])
    plain = invoke("--judge", "judge=model:test-longer-answer", "--preferences", str(sft))
    assert plain.exit_code == 2 and "hold no preference" in plain.stderr
    both = invoke("run", "--labels", "x.jsonl", "--judge", "judge=keyword", "--preferences",
                  str(image))
    assert both.exit_code == 2 and "not both" in both.stderr
    keyword = invoke("--judge", "judge=keyword", "--preferences", str(image))
    assert keyword.exit_code == 2 and "cannot rate pairwise" in keyword.stderr
