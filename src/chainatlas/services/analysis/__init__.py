"""Analysis of a zone's chain: node strength and verdicts, gaps, relatedness, chain leaders, what-if (`diagnosis`),
and the thresholds and weights it uses (`settings`)."""

from chainatlas.services.analysis.diagnosis import (
    HypotheticalFirm,
    diagnose,
    diagnosis_to_csv,
    diagnosis_to_dict,
    firms_from_project,
    leader_view,
    what_if,
)
from chainatlas.services.analysis.matrix import matrix_local, matrix_spark
from chainatlas.services.analysis.settings import SettingsError, load_settings

__all__ = [
    "HypotheticalFirm", "SettingsError", "diagnose", "diagnosis_to_csv", "diagnosis_to_dict", "firms_from_project",
    "leader_view", "load_settings", "matrix_local", "matrix_spark", "what_if",
]
