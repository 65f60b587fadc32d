"""Analysis of a zone's chain: node strength and verdicts, gaps, relatedness, chain leaders, what-if (`diagnosis`),
and the thresholds and weights it uses (`settings`)."""

from chainatlas.services.analysis.diagnosis import (
    HypotheticalFirm,
    diagnose,
    diagnosis_to_csv,
    diagnosis_to_dict,
    firms_from_project,
    leader_view,
    nothing_placed_hint,
    placed_firms,
    what_if,
)
from chainatlas.services.analysis.matrix import load_baseline, matrix_local, matrix_spark, node_cities
from chainatlas.services.analysis.settings import SettingsError, load_settings

__all__ = [
    "HypotheticalFirm", "SettingsError", "diagnose", "diagnosis_to_csv", "diagnosis_to_dict", "firms_from_project",
    "leader_view", "load_baseline", "load_settings", "matrix_local", "matrix_spark", "node_cities",
    "nothing_placed_hint", "placed_firms", "what_if",
]
