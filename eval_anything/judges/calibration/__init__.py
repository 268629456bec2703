"""How far to trust a judge: its agreement with human labels, measured.

- :func:`agreement_with_labels`: judged runs joined to a labels file (ratings, A/B/tie
  preferences, 0/1 verdicts), per task and score (:mod:`.labels`);
- :func:`agreement_with_preferences`: a judge asked about align-anything preference pairs in
  both orders, against the annotators' choice (:mod:`.preferences`).

Both return an :class:`AgreementReport` (:mod:`.report`); the statistics are in
:mod:`eval_anything.stats.agreement`. ``eval-anything agreement`` is the command; docs/judges.md
the guide.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Names load on first use: a run imports .consistency (panel and repeat agreement) for every
# task it scores, and must not pay for scipy, scikit-learn and krippendorff unless it measures.
_HOMES = {
    "LabelsError": "labels",
    "agreement_with_labels": "labels",
    "PreferencesError": "preferences",
    "agreement_with_preferences": "preferences",
    "AgreementReport": "report",
    "ScoreAgreement": "report",
    "TaskAgreement": "report",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AgreementReport",
    "LabelsError",
    "PreferencesError",
    "ScoreAgreement",
    "TaskAgreement",
    "agreement_with_labels",
    "agreement_with_preferences",
]
