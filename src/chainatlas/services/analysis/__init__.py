"""Analysis of a zone's chain: node strength and verdicts, gaps, relatedness (`diagnosis`, over what `world` reads),
a chain leader's supply (`leader_supply`), what-if (`whatif`), the thresholds and weights (`settings`) and the
national region × node baseline (`matrix`)."""

from chainatlas.services.analysis.diagnosis import (
    diagnose,
    diagnosis_to_csv,
    diagnosis_to_dict,
    nothing_placed_hint,
    placed_firms,
)
from chainatlas.services.analysis.leader_supply import leader_view
from chainatlas.services.analysis.whatif import firms_from_project, what_if
from chainatlas.services.analysis.world import HypotheticalFirm
from chainatlas.services.analysis.matrix import load_baseline, matrix_local, matrix_spark, node_cities
from chainatlas.services.analysis.settings import SettingsError, load_settings

__all__ = [
    "HypotheticalFirm", "SettingsError", "diagnose", "diagnosis_to_csv", "diagnosis_to_dict", "firms_from_project",
    "leader_view", "load_baseline", "load_settings", "matrix_local", "matrix_spark", "node_cities",
    "nothing_placed_hint", "placed_firms", "what_if",
]
