"""Excel list of target enterprises (目标企业名单): one sheet per node, each target with its score, every
component and the reason in Chinese; a first sheet states the weights used. Sheet layout follows
services/reports/sheet.py (title, note, frozen Chinese header, numbers as numeric cells)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import xlsxwriter
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.chain import load_chain
from chainatlas.services.reports.sheet import Col, Sheet, any_demo, sheet_note
from chainatlas.services.targets import (
    COMPONENT_LABELS,
    COMPONENTS,
    TargetError,
    TargetRow,
    rank_targets,
    user_weights,
    validate_weights,
)
from chainatlas.services.catalog.zones import resolve_zone

TARGET_COLS = (
    Col("排名", 6, "int"), Col("企业名称", 36), Col("所在城市", 10), Col("总分（0–100）", 10, "float"),
    *(Col(f"{COMPONENT_LABELS[k]}（0–1）", 11, "float") for k in COMPONENTS),
    Col("推荐理由", 80), Col("一票否决", 8, "bool"), Col("否决原因", 26), Col("企业编号", 9, "int"),
)
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(text: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = _BAD_SHEET_CHARS.sub("·", text)[:28] or "环节"
    name, i = base, 2
    while name in used:
        name, i = f"{base}{i}", i + 1
    used.add(name)
    return name


def export_targets_xlsx(
    session: Session,
    zone_id: str,
    node_ids: Sequence[str],
    out: str | Path,
    *,
    chain_id: str,
    limit: int = 50,
    weights: dict | None = None,
    username: str | None = None,
) -> int:
    """Write the target lists of `node_ids` to `out` (.xlsx); returns the number of target rows written."""
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise TargetError(f"输出文件“{out}”的扩展名应为 .xlsx")
    if not node_ids:
        raise TargetError("请至少指定一个环节（--node）")
    zone = resolve_zone(session, zone_id)
    chain = load_chain(chain_id)
    w = validate_weights(weights) if weights is not None else user_weights(session, username)
    lists: list[tuple[str, list[TargetRow]]] = [
        (n, rank_targets(session, zone.id, n, chain.id, limit=limit, weights=w)) for n in node_ids
    ]
    demo = any_demo(session, [r.enterprise_id for _, rows in lists for r in rows])
    out.parent.mkdir(parents=True, exist_ok=True)
    total = 0
    with xlsxwriter.Workbook(str(out)) as wb:
        used: set[str] = set()
        wsheet = Sheet(wb, _sheet_name("权重与说明", used), f"{zone.name}{chain.name_zh}产业链目标企业名单",
                        sheet_note(config.today(), f"每个环节一页，前{limit}名；得分 = Σ 权重 × 分项 ÷ Σ 权重 × 100"),
                        (Col("分项", 22), Col("权重", 8, "float"), Col("含义", 70)), demo)
        for k in COMPONENTS:
            wsheet.append([COMPONENT_LABELS[k], w[k], _MEANING[k]])
        wsheet.finish()
        for node_id, rows in lists:
            node = chain.nodes[node_id]
            sheet = Sheet(
                wb, _sheet_name(node.name_zh, used), f"{node.name_zh}（{node.id}）目标企业",
                sheet_note(config.today(), "已在区内、已在项目台账中的企业不列入；一票否决的企业列在名单之后并注明原因"),
                TARGET_COLS, demo,
            )
            rank = 0
            for r in rows:
                rank += 0 if r.vetoed else 1
                sheet.append([
                    None if r.vetoed else rank, r.name, r.city_name, r.score,
                    *(r.components[k] for k in COMPONENTS), r.reason_zh, r.vetoed, r.veto_reason, r.enterprise_id,
                ])
            total += sheet.finish()
    return total


_MEANING = {
    "fit": "企业归入该环节的置信度（人工归类记 1）",
    "leader_supply": "已为本区链主企业配套记 1",
    "leader_peers": "供应链网络预测：为与本区链主相近的企业（链主同行，如整车厂）配套的程度（最高为 1）",
    "scale": "注册资本、营业收入、员工数（对数刻度）及上市情况",
    "expansion": "所属集团近年新设分支机构或子公司的数量",
    "designation": "专精特新、小巨人、高新技术企业、独角兽等称号（取最高）",
    "foreign": "外商投资企业记 1（外资招商）",
    "distance": "同城 > 同省 > 相邻省份 > 其他",
}
