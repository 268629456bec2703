"""How far to trust a judge: its agreement with human labels, measured.

- :func:`agreement_with_labels`: judged runs joined to a labels file (ratings, A/B/tie
  preferences, 0/1 verdicts), per task and score (:mod:`.labels`);
- :func:`agreement_with_preferences`: a judge asked about align-anything preference pairs in
  both orders, against the annotators' choice (:mod:`.preferences`).

Both return an :class:`AgreementReport` (:mod:`.report`); the statistics are in
:mod:`eval_anything.stats.agreement`. ``eval-anything agreement`` is the command; docs/judges.md
the guide.
"""

from eval_anything.judges.calibration.labels import LabelsError, agreement_with_labels
from eval_anything.judges.calibration.preferences import (
    PreferencesError,
    agreement_with_preferences,
)
from eval_anything.judges.calibration.report import (
    AgreementReport,
    ScoreAgreement,
    TaskAgreement,
)

__all__ = [
    "AgreementReport",
    "LabelsError",
    "PreferencesError",
    "ScoreAgreement",
    "TaskAgreement",
    "agreement_with_labels",
    "agreement_with_preferences",
]
