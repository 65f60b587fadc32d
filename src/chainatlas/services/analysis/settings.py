"""Analysis settings: packaged defaults (data/analysis.yaml) overridden by the file named in CHAINATLAS_CONFIG.

The override file may hold other sections for other modules; this loader reads only its `analysis:` mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from chainatlas import config

VERDICTS = ("强", "较强", "弱", "样本不足", "缺", "未知")
MEASURES = ("revenue", "output", "capital", "employees")
WEIGHT_KEYS = ("importance", "gap", "feasibility", "demand")


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class VerdictThresholds:
    strong_lq: float = 1.5
    strong_min_firms: int = 3
    fairly_strong_lq: float = 1.0
    fairly_strong_min_firms: int = 2
    min_sample_firms: int = 3
    anchor_min_verdict: str = "较强"


@dataclass(frozen=True)
class ScaleRule:
    """Strength by scale (see data/analysis.yaml for the reasons)."""

    measures: tuple[str, ...] = MEASURES
    min_coverage: float = 0.5
    strong_share: float = 0.05
    fairly_strong_share: float = 0.01


@dataclass(frozen=True)
class Benchmark:
    kind: str = "all"  # all | peers
    peers: tuple[str, ...] = ()

    def describe(self) -> str:
        return "全库企业" if self.kind == "all" else f"对标地区（{'、'.join(self.peers)}）"


@dataclass(frozen=True)
class AnalysisSettings:
    verdict: VerdictThresholds = field(default_factory=VerdictThresholds)
    scale: ScaleRule = field(default_factory=ScaleRule)
    extend_from: tuple[str, ...] = ("强",)
    presence_rca: float = 1.0
    opportunity_weights: dict[str, float] = field(default_factory=dict)
    importance_core_share: float = 0.6
    benchmark: Benchmark = field(default_factory=Benchmark)
    source: str = ""


def _defaults_path() -> Path:
    return Path(str(resources.files("chainatlas") / "data" / "analysis.yaml"))


def _merge(base: dict, over: dict, where: str, path: str) -> dict:
    out = dict(base)
    for key, value in over.items():
        if key not in base:
            raise SettingsError(f"{path}: 未知设置项 “{where}{key}”；可用：{sorted(base)}。请检查拼写。")
        if isinstance(base[key], dict) and isinstance(value, dict):
            out[key] = _merge(base[key], value, f"{where}{key}.", path)
        else:
            out[key] = value
    return out


def load_settings(path: str | Path | None = None) -> AnalysisSettings:
    """Defaults, then the override file (argument, else CHAINATLAS_CONFIG), validated with Chinese errors."""
    raw = yaml.safe_load(_defaults_path().read_text(encoding="utf-8"))
    override = path or config.setting("analysis_config")
    source = "默认设置 data/analysis.yaml"
    if override:
        file = Path(override)
        if not file.exists():
            raise SettingsError(f"找不到设置文件 {file}（环境变量 CHAINATLAS_CONFIG）。请改正路径或取消该变量。")
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        section = data.get("analysis") or {}
        if not isinstance(section, dict):
            raise SettingsError(f"{file}: “analysis” 应为映射（键: 值）。")
        raw = _merge(raw, section, "analysis.", str(file))
        source = f"默认设置 + {file}"
    return _build(raw, source)


def _build(raw: dict, source: str) -> AnalysisSettings:
    v = VerdictThresholds(**raw["verdict"])
    if v.anchor_min_verdict not in ("", "强", "较强", "弱"):
        raise SettingsError(f"{source}: verdict.anchor_min_verdict 应为 强/较强/弱 或空，现为 “{v.anchor_min_verdict}”。")
    if v.strong_lq < v.fairly_strong_lq:
        raise SettingsError(f"{source}: verdict.strong_lq ({v.strong_lq}) 不应小于 fairly_strong_lq ({v.fairly_strong_lq})。")
    if v.min_sample_firms < 1:
        raise SettingsError(f"{source}: verdict.min_sample_firms 应至少为 1，现为 {v.min_sample_firms}。")
    scale = ScaleRule(
        measures=tuple(raw["scale"]["measures"]), min_coverage=float(raw["scale"]["min_coverage"]),
        strong_share=float(raw["scale"]["strong_share"]), fairly_strong_share=float(raw["scale"]["fairly_strong_share"]),
    )
    bad_measures = [m for m in scale.measures if m not in MEASURES]
    if bad_measures:
        raise SettingsError(f"{source}: scale.measures 中的 {bad_measures} 不是可用的规模口径；可用：{list(MEASURES)}。")
    if not 0 <= scale.min_coverage <= 1 or not 0 <= scale.fairly_strong_share <= scale.strong_share <= 1:
        raise SettingsError(
            f"{source}: scale.min_coverage 应在 0–1 之间，且 0 ≤ fairly_strong_share ≤ strong_share ≤ 1"
            f"（现为 {scale.min_coverage}、{scale.fairly_strong_share}、{scale.strong_share}）。")
    weights = {k: float(raw["opportunity_weights"].get(k, 0.0)) for k in WEIGHT_KEYS}
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise SettingsError(f"{source}: opportunity_weights 应为非负数且至少一项大于 0，现为 {weights}。")
    bench = raw["benchmark"]
    benchmark = Benchmark(kind=str(bench.get("kind", "all")), peers=tuple(str(p) for p in bench.get("peers") or ()))
    if benchmark.kind not in ("all", "peers"):
        raise SettingsError(f"{source}: benchmark.kind 应为 all 或 peers，现为 “{benchmark.kind}”。")
    if benchmark.kind == "peers" and not benchmark.peers:
        raise SettingsError(f"{source}: benchmark.kind 为 peers 时须在 benchmark.peers 中列出地区代码（省2位/市4位）。")
    bad = [p for p in benchmark.peers if not (p.isdigit() and len(p) in (2, 4))]
    if bad:
        raise SettingsError(f"{source}: benchmark.peers 中的代码 {bad} 应为 2 位省级或 4 位市级区划代码。")
    return AnalysisSettings(
        verdict=v,
        scale=scale,
        extend_from=tuple(raw["extend_from"]),
        presence_rca=float(raw["presence_rca"]),
        opportunity_weights=weights,
        importance_core_share=float(raw["importance_core_share"]),
        benchmark=benchmark,
        source=source,
    )
