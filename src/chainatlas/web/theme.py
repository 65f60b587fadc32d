"""One colour scale for node strength, used by the CSS legend, the ECharts pages and the big screen alike."""

from __future__ import annotations

VERDICTS = ("强", "较强", "弱", "样本不足", "缺", "未知")
VERDICT_COLORS = {
    "强": "#1b7f4c",
    "较强": "#6cbf6a",
    "弱": "#f2a33a",
    "样本不足": "#e9d8a6",
    "缺": "#d8423a",
    "未知": "#a3abb8",
}
VERDICT_CSS = {"强": "strong", "较强": "fair", "弱": "weak", "样本不足": "thin", "缺": "missing", "未知": "unknown"}
STAGE_ORDER = ("线索", "接洽", "在谈", "签约", "注册", "开工", "投产", "搁置", "终止")
