"""Placement of firms on chain nodes: in the database, with evidence and never over an analyst (`placements`), and
for a file with no database, the work of `chainatlas classify` (`classify_pass`, reading and writing by `firm_file`,
worker processes by `classify_workers`; in Spark partitions `spark_pass`); retraining a chain's learned placement
layer (`training`, `chainatlas placement train`); the zone's firms to check by hand, 归链核实 (`check`).

Names load on first use (PEP 562): `chainatlas classify` imports this package before it forks its workers, which
must happen before polars loads (`firm_file`), and it never needs the database stack (`placements`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chainatlas.services.placement.classify_pass import Summary, classify_file
    from chainatlas.services.placement.classify_workers import (
        WorkerFailed,
        available_cores,
        one_pass_process,
        parts_of,
        start_part_workers,
    )
    from chainatlas.services.placement.firm_file import read_frame, write_placements
    from chainatlas.services.placement.spark_pass import SparkSummary, classify_spark
    from chainatlas.services.placement.training import Trained, TrainingError, TrainSettings, train
    from chainatlas.services.placement.chain_registry import ChainAdded, add_chain
    from chainatlas.services.placement.export import placement_rows, write_placements_csv
    from chainatlas.services.placement.check import placement_check
    from chainatlas.services.placement.placements import (
        classify_enterprises,
        placement_chain_ids,
        correct_placement,
        effective_placements,
    )

_HOME = {
    "Summary": "classify_pass", "classify_file": "classify_pass",
    "WorkerFailed": "classify_workers", "available_cores": "classify_workers",
    "one_pass_process": "classify_workers", "parts_of": "classify_workers", "start_part_workers": "classify_workers",
    "read_frame": "firm_file", "write_placements": "firm_file",
    "SparkSummary": "spark_pass", "classify_spark": "spark_pass",
    "classify_enterprises": "placements", "correct_placement": "placements", "effective_placements": "placements",
    "placement_chain_ids": "placements", "placement_check": "check",
    "Trained": "training", "TrainingError": "training", "TrainSettings": "training", "train": "training", "ChainAdded": "chain_registry", "add_chain": "chain_registry", "placement_rows": "export", "write_placements_csv": "export",
}
__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
