"""Target enterprises: ranked candidates for a gap node (`ranking`, its reasons in `reasons`), chain-leader
suppliers (`leaders`, over the network in `leader_links`), the weights a user may save (`weights`), and the
backtest and forecast of supplier prediction (`backtest`, `forecast`)."""

from chainatlas.services.targets.backtest import (
    BacktestInputError,
    Split,
    english_name_key,
    former_names,
    read_marklines,
    relations_from_db,
    run_backtest,
    split_pairs,
)
from chainatlas.services.targets.forecast import by_year_table_zh, run_by_year, split_years
from chainatlas.services.targets.leaders import suppliers_for_leader
from chainatlas.services.targets.ranking import TargetRow, explain_target, rank_targets, target_to_project
from chainatlas.services.targets.cache import clear_cache
from chainatlas.services.targets.weights import (
    COMPONENT_LABELS,
    COMPONENTS,
    TargetError,
    default_weights,
    reset_weights,
    save_weights,
    user_weights,
    validate_weights,
    weights_in_force,
)

__all__ = [
    "COMPONENT_LABELS", "COMPONENTS", "BacktestInputError", "Split", "TargetError", "TargetRow", "by_year_table_zh",
    "clear_cache", "default_weights", "english_name_key", "explain_target",
    "former_names", "rank_targets", "read_marklines",
    "relations_from_db", "reset_weights", "run_backtest", "run_by_year", "save_weights", "split_pairs",
    "split_years", "suppliers_for_leader", "target_to_project", "user_weights", "validate_weights",
    "weights_in_force",
]
