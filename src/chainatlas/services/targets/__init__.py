"""Target enterprises: ranked candidates for a gap node, chain-leader suppliers, user weights (`ranking`), and the
backtest of supplier prediction (`backtest`)."""

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
from chainatlas.services.targets.ranking import (
    COMPONENT_LABELS,
    COMPONENTS,
    TargetError,
    TargetRow,
    clear_cache,
    default_weights,
    rank_targets,
    reset_weights,
    save_weights,
    suppliers_for_leader,
    target_to_project,
    user_weights,
    validate_weights,
    weights_in_force,
)

__all__ = [
    "COMPONENTS", "COMPONENT_LABELS", "BacktestInputError", "Split", "TargetError", "TargetRow", "clear_cache",
    "default_weights", "english_name_key", "former_names", "rank_targets", "read_marklines", "relations_from_db",
    "reset_weights", "run_backtest", "save_weights", "split_pairs", "suppliers_for_leader", "target_to_project",
    "user_weights", "validate_weights", "weights_in_force",
]
