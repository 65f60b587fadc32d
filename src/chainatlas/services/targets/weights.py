"""Target ranking settings (data/targets.yaml) and the weights a user may change and save.

The ranking's components and their Chinese labels, the defaults, validation (a bad weight gets a Chinese message
naming it), per-user saved weights (audited), and the settings-only rules: a designation's value, a veto.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from chainatlas.engines import linkfeatures
from chainatlas.store.db import audit
from chainatlas.store.models import TargetWeights

COMPONENTS = ("fit", "leader_supply", "leader_peers", "scale", "expansion", "designation", "foreign", "distance")
COMPONENT_LABELS = {
    "fit": "环节契合度",
    "leader_supply": "已为本区链主配套",
    "leader_peers": "为链主同行配套",  # the chain leaders' peers: 整车厂 on the vehicle chain, not on 光伏与新型储能
    "scale": "规模",
    "expansion": "扩张信号",
    "designation": "资质称号",
    "foreign": "外资",
    "distance": "区位",
}


class TargetError(ValueError):
    """Bad input to the target ranking; the message is Chinese and says what to do."""


@dataclass(frozen=True)
class TargetSettings:
    weights: dict[str, float]
    designations: dict[str, float]
    level_bonus: dict[str, float]
    distance: dict[str, float]
    scale: dict[str, float]
    expansion_years: int
    expansion_full_at: int
    veto_risk_flags: tuple[str, ...]
    veto_status: tuple[str, ...]
    min_fit: float
    placeholder_share: float
    forecast_weights: dict[str, float]


def _data_path(name: str) -> Path:
    return Path(str(resources.files("chainatlas") / "data" / name))


@lru_cache(maxsize=1)
def target_settings() -> TargetSettings:
    raw = yaml.safe_load(_data_path("targets.yaml").read_text(encoding="utf-8"))
    return TargetSettings(
        weights={k: float(raw["weights"][k]) for k in COMPONENTS},
        designations={str(k): float(v) for k, v in raw["designations"].items()},
        level_bonus={str(k): float(v) for k, v in raw.get("level_bonus", {}).items()},
        distance={k: float(v) for k, v in raw["distance"].items()},
        scale={k: float(v) for k, v in raw["scale"].items()},
        expansion_years=int(raw["expansion_years"]),
        expansion_full_at=int(raw["expansion_full_at"]),
        veto_risk_flags=tuple(raw["veto_risk_flags"]),
        veto_status=tuple(raw["veto_status"]),
        min_fit=float(raw.get("min_fit", 0.0)),
        placeholder_share=float(raw.get("placeholder_share", 0.001)),
        forecast_weights={k: float(raw["forecast_weights"][k]) for k in (*linkfeatures.FEATURES, "intercept")},
    )


@lru_cache(maxsize=1)
def province_neighbours() -> dict[str, frozenset[str]]:
    raw = yaml.safe_load(_data_path("province_neighbours.yaml").read_text(encoding="utf-8"))
    return {str(k): frozenset(str(x) for x in v) for k, v in raw.items()}


def default_weights() -> dict[str, float]:
    return dict(target_settings().weights)


def validate_weights(weights: dict[str, Any]) -> dict[str, float]:
    """Known components, non-negative numbers, not all zero; missing components keep their default."""
    unknown = sorted(set(weights) - set(COMPONENTS))
    if unknown:
        known = "、".join(f"{k}（{COMPONENT_LABELS[k]}）" for k in COMPONENTS)
        raise TargetError(f"未知的权重项：{'、'.join(unknown)}。可用：{known}")
    out = default_weights()
    for key, value in weights.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TargetError(f"权重“{key}（{COMPONENT_LABELS[key]}）”应为数字，收到“{value}”") from None
        if not math.isfinite(number) or number < 0:
            raise TargetError(f"权重“{key}（{COMPONENT_LABELS[key]}）”应为不小于 0 的数，收到“{value}”")
        out[key] = number
    if sum(out.values()) <= 0:
        raise TargetError("权重不能全部为 0：至少给一项正的权重")
    return out


def user_weights(session: Session, username: str | None) -> dict[str, float]:
    """The user's saved weights over the defaults (a saved set may predate a new component)."""
    if username:
        row = session.get(TargetWeights, username)
        if row is not None and row.weights:
            return validate_weights({k: v for k, v in row.weights.items() if k in COMPONENTS})
    return default_weights()


def weights_in_force(session: Session, username: str | None) -> tuple[dict[str, float], bool]:
    """The weights rank_targets uses for this user, and whether they are the user's own saved set."""
    row = session.get(TargetWeights, username) if username else None
    return user_weights(session, username), row is not None and bool(row.weights)


def save_weights(session: Session, username: str, weights: dict[str, Any], by_user: str | None = None) -> dict[str, float]:
    """Validate and store a user's weights (audited); returns what was stored."""
    if not username:
        raise TargetError("保存权重需要用户名")
    clean = validate_weights(weights)
    row = session.get(TargetWeights, username)
    before = dict(row.weights) if row is not None else None
    if row is None:
        row = TargetWeights(username=username, weights=clean)
        session.add(row)
    else:
        row.weights = clean
    session.flush()
    audit(session, by_user or username, "target_weights.save", "target_weights", username, before, clean)
    return clean


def reset_weights(session: Session, username: str, by_user: str | None = None) -> dict[str, float]:
    row = session.get(TargetWeights, username)
    if row is not None:
        audit(session, by_user or username, "target_weights.reset", "target_weights", username, dict(row.weights), None)
        session.delete(row)
        session.flush()
    return default_weights()




def designation_value(name: str, level: str, settings: TargetSettings | None = None) -> float:
    settings = settings or target_settings()
    best = max((v for k, v in settings.designations.items() if k in name), default=0.0)
    return max(0.0, best + settings.level_bonus.get(level, 0.0)) if best else 0.0


def veto_reason(status: str, risk_flags: Iterable[str], settings: TargetSettings | None = None) -> str:
    """'' when the firm may be approached, else the Chinese reason it may not."""
    settings = settings or target_settings()
    flags = [str(f) for f in (risk_flags or []) if any(w in str(f) for w in settings.veto_risk_flags)]
    if flags:
        return f"风险标记“{'、'.join(flags)}”"
    if status and any(w in status for w in settings.veto_status):
        return f"登记状态为“{status}”"
    return ""


