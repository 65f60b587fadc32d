"""`chainatlas gaps | leader | whatif`: chain diagnosis, chain-leader supply view and what-if, in Chinese tables."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from chainatlas import config
from chainatlas.cli import output
from chainatlas.cli.errors import fail
from chainatlas.domain.chain import Chain, ChainFileError, load_chain
from chainatlas.domain.money import format_yuan
from chainatlas.services.analysis import SettingsError
from chainatlas.services.catalog import ZoneNotFound
from chainatlas.store import db

VERDICT_STYLE = {"强": "bold green", "较强": "green", "弱": "yellow", "样本不足": "dim yellow", "缺": "bold red", "未知": "dim"}
DEMO_NOTE = "[bold yellow]注意：结果含演示数据（demo），不代表真实情况。[/]"


class OutFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "数据不足" if value is None else f"{value:.1%}"


def _run(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Open a read-only unit of work and turn the errors users can fix into Chinese messages."""
    try:
        with db.session_scope() as session:
            return fn(session, *args, **kwargs)
    except (ZoneNotFound, LookupError, ValueError, ChainFileError, SettingsError) as exc:
        fail(str(exc))


def _load_chain(chain: str | None) -> Chain:
    try:
        return load_chain(chain or config.default_chain())
    except ChainFileError as exc:
        fail(str(exc))
        raise


def _parse_firms(add_firm: list[str], serve_leaders: bool) -> list:
    from chainatlas.services.analysis import HypotheticalFirm

    firms = []
    for spec in add_firm:
        nodes, _, count = spec.partition(":")
        if count and not (count.isdigit() and int(count) > 0):
            fail(f"--add-firm “{spec}” 的数量应为正整数，例如 lidar:2")
        firms.append(HypotheticalFirm(node_ids=tuple(n for n in nodes.split("+") if n), count=int(count or 1),
                                      name=f"假设企业({nodes})", serves_leaders=serve_leaders))
    return firms


def print_diagnosis(d, chain: Chain, console: Console, reasons: bool = False, top: int = 15) -> None:  # type: ignore[no-untyped-def]
    if d.is_demo:
        console.print(DEMO_NOTE)
    console.print(
        f"[bold]{d.zone_name} · {chain.name_zh} 产业链诊断[/]  区内企业 {d.zone_firm_count} 家，其中链上 "
        f"{d.zone_chain_firm_count} 家；区位商基准：{d.benchmark}；关联度基于 {d.region_count} 个城市"
        + (f"；复杂度前景指数 COI {d.coi:.2f}" if d.coi is not None else "")
    )
    table = Table(title="环节强弱 (node strength)", show_lines=False)
    for col in ("环节", "链段", "核心", "判定", "企业", "上市/链主", "注册资本", "营收", "产值", "区位商", "关联密度/对标", "象限"):
        table.add_column(col, justify="right" if col in ("企业", "区位商") else "left", no_wrap=col == "环节")
    for node_id, ns in d.nodes.items():
        depth = 0
        parent = chain.nodes[node_id].parent
        while parent:
            depth, parent = depth + 1, chain.nodes[parent].parent
        name = ("  " * depth + "└ " if depth else "") + ns.name_zh
        table.add_row(
            name, chain.stage_name(ns.stage), "★" if ns.core else "", f"[{VERDICT_STYLE[ns.verdict]}]{ns.verdict}[/]",
            str(ns.firm_count), f"{ns.listed_count}/{ns.leader_count}", format_yuan(ns.capital_yuan),
            format_yuan(ns.revenue_yuan), format_yuan(ns.output_yuan), _num(ns.lq),
            f"{_num(ns.density)}/{_num(ns.peer_density)}", ns.quadrant,
        )
    console.print(table)
    gaps = Table(title=f"缺口与招商机会（前 {min(top, len(d.gaps))} 项，共 {len(d.gaps)} 项）(gaps, best first)")
    for col in ("排名", "环节", "类型", "机会分", "重要性", "缺口", "可行性", "需求"):
        gaps.add_column(col, justify="left" if col in ("环节", "类型") else "right")
    for i, g in enumerate(d.gaps[:top], 1):
        c = g.components
        gaps.add_row(str(i), g.name_zh, g.gap_type, f"{g.opportunity:.3f}", f"{c['importance']:.2f}", f"{c['gap']:.2f}",
                     f"{c['feasibility']:.2f}", f"{c['demand']:.2f}")
    console.print(gaps)
    if reasons:
        for ns in d.nodes.values():
            console.print(f"[bold]{ns.name_zh}[/]（{ns.node_id}）[{VERDICT_STYLE[ns.verdict]}]{ns.verdict}[/]")
            for r in ns.reasons:
                console.print(f"  · {r}")
        for g in d.gaps[:top]:
            console.print(f"[bold]{g.name_zh} · {g.gap_type}[/]")
            for r in g.reasons:
                console.print(f"  · {r}")


def print_leader(view, chain: Chain, console: Console) -> None:  # type: ignore[no-untyped-def]
    if view.is_demo:
        console.print(DEMO_NOTE)
    console.print(
        f"[bold]链主 {view.leader_name}[/]  供应商 {view.supplier_count} 家；本地配套率 按家数 "
        f"{_pct(view.local_ratio_count)}，按金额 {_pct(view.local_ratio_value)}（{view.value_known_count} 家有金额）"
    )
    for r in view.reasons:
        console.print(f"  · {r}")
    table = Table(title="供应商（按环节）(suppliers by node)")
    for col in ("环节", "供应商", "所在城市", "本地", "金额", "产品"):
        table.add_column(col)
    order = {node_id: i for i, node_id in enumerate(chain.nodes)}
    for key in sorted(view.suppliers_by_node, key=lambda k: order.get(k, len(order))):  # 未定环节 last
        for s in view.suppliers_by_node[key]:
            table.add_row(s.node_name, s.name, s.city_code or "—", "✓" if s.local else "区外",
                          format_yuan(s.value_yuan), s.product)
    console.print(table)
    outside = Table(title="区外采购环节（招商线索）(nodes bought from outside)")
    for col in ("环节", "区外供应商", "区外采购额", "区内已有企业"):
        outside.add_column(col)
    for o in view.outside_nodes:
        outside.add_row(o.name_zh, str(o.supplier_count), format_yuan(o.value_yuan), str(o.local_firm_count))
    console.print(outside)


def gaps(
    zone: str = typer.Option(None, "--zone", help="开发区 id 或名称，默认 CHAINATLAS_ZONE (zone id or name)"),
    chain: str = typer.Option(None, "--chain", help="产业链 id，默认 CHAINATLAS_CHAIN (chain id)"),
    format: OutFormat = typer.Option(OutFormat.table, "--format", help="table、json 或 csv (output format)"),
    reasons: bool = typer.Option(False, "--reasons", help="逐环节列出判定依据 (print the reasons behind each verdict)"),
    top: int = typer.Option(15, "--top", help="表中显示的缺口数 (gaps shown in the table)"),
    baseline: Path | None = typer.Option(
        None, "--baseline",
        help="全国基准矩阵（chainatlas matrix 的输出），默认 CHAINATLAS_BASELINE，再默认库内全部企业 (baseline matrix)"),
) -> None:
    """产业链诊断：强链、弱链、缺链与招商机会排序 (diagnose the chain: strong, weak, missing links, opportunities)."""
    from chainatlas.services.analysis import (
        diagnose,
        diagnosis_to_csv,
        diagnosis_to_dict,
        nothing_placed_hint,
        placed_firms,
    )

    chain_obj = _load_chain(chain)

    def run(session):  # type: ignore[no-untyped-def]
        d = diagnose(session, zone or config.default_zone(), chain or config.default_chain(), baseline=baseline)
        return d, placed_firms(session, d)

    d, firms = _run(run)
    if d.zone_chain_firm_count == 0:
        typer.echo(nothing_placed_hint(d, chain_obj), err=True)
    if format is OutFormat.json:
        typer.echo(json.dumps(diagnosis_to_dict(d) | {"firms": firms}, ensure_ascii=False, indent=2))
    elif format is OutFormat.csv:
        typer.echo(diagnosis_to_csv(d), nl=False)
    else:
        print_diagnosis(d, chain_obj, output.console(), reasons=reasons, top=top)


def leader(
    name: str = typer.Argument(..., help="链主企业名称、简称或 id (leader name, short name or id)"),
    zone: str = typer.Option(None, "--zone", help="开发区 id 或名称 (zone id or name)"),
    chain: str = typer.Option(None, "--chain", help="产业链 id (chain id)"),
    format: OutFormat = typer.Option(OutFormat.table, "--format", help="table 或 json (output format)"),
) -> None:
    """链主企业配套分析：供应商、本地配套率、区外采购环节 (chain-leader supply view)."""
    from dataclasses import asdict

    from chainatlas.services.analysis import leader_view

    chain_obj = _load_chain(chain)
    view = _run(leader_view, zone or config.default_zone(), name, chain or config.default_chain())
    if format is OutFormat.table:
        print_leader(view, chain_obj, output.console())
    else:
        typer.echo(json.dumps(asdict(view), ensure_ascii=False, indent=2))


def whatif(
    zone: str = typer.Option(None, "--zone", help="开发区 id 或名称 (zone id or name)"),
    chain: str = typer.Option(None, "--chain", help="产业链 id (chain id)"),
    add_firm: list[str] = typer.Option(
        [], "--add-firm", help="假设新增企业：环节id[:家数]，多环节用 + 连接，可重复 (e.g. lidar:2, cathode+anode)"
    ),
    project: list[int] = typer.Option([], "--project", help="假设项目台账中的项目落地：项目 id，可重复 (pipeline project id)"),
    serve_leaders: bool = typer.Option(
        True, "--serve-leaders/--no-serve-leaders", help="新增企业是否承接链主的区外采购 (take over leaders' outside purchases)"
    ),
) -> None:
    """假设推演：新增企业或项目落地后，判定、本地配套率与机会分如何变化（不改动数据库）(what-if, read-only)."""
    from chainatlas.services.analysis import firms_from_project, what_if

    firms = _parse_firms(add_firm, serve_leaders)

    def run(session):  # type: ignore[no-untyped-def]
        extra = firms + [f for pid in project for f in firms_from_project(session, pid)]
        if not extra:
            raise ValueError("请用 --add-firm 或 --project 指定至少一项假设 (nothing to add)")
        return what_if(session, zone or config.default_zone(), extra, chain or config.default_chain())

    result = _run(run)
    console = output.console()
    if result.after.is_demo:
        console.print(DEMO_NOTE)
    console.print(f"[bold]假设推演[/]（不改动数据库）：新增 {'、'.join(f'{f.name}×{f.count}' for f in result.after.hypothetical)}")
    table = Table(title="变化的环节 (changed nodes)")
    for col in ("环节", "判定 前→后", "企业 前→后", "区位商 前→后", "机会分 前→后"):
        table.add_column(col)
    # Adding firms dilutes the zone's share on every other node, so many scores move a little; show the ones
    # that matter and say how many only drifted.
    shown = [
        c for c in result.changes
        if c.verdict_before != c.verdict_after or c.firms_before != c.firms_after
        or (c.opportunity_before is None) != (c.opportunity_after is None)
        or abs((c.opportunity_after or 0) - (c.opportunity_before or 0)) >= 0.01
    ]
    for c in shown:
        table.add_row(c.name_zh, f"{c.verdict_before}→{c.verdict_after}", f"{c.firms_before}→{c.firms_after}",
                      f"{_num(c.lq_before)}→{_num(c.lq_after)}",
                      f"{_num(c.opportunity_before, 3)}→{_num(c.opportunity_after, 3)}")
    console.print(table)
    if len(result.changes) > len(shown):
        console.print(f"另有 {len(result.changes) - len(shown)} 个环节因本区企业总数变化，区位商或机会分仅小幅变动（<0.01）。")
    leaders = Table(title="链主本地配套率 (leaders' local supply ratio)")
    for col in ("链主", "按家数 前→后", "按金额 前→后"):
        leaders.add_column(col)
    for b, a in result.leaders:
        leaders.add_row(b.leader_name, f"{_pct(b.local_ratio_count)}→{_pct(a.local_ratio_count)}",
                        f"{_pct(b.local_ratio_value)}→{_pct(a.local_ratio_value)}")
    console.print(leaders)


def register(app: typer.Typer) -> None:
    app.command("gaps")(gaps)
    app.command("leader")(leader)
    app.command("whatif")(whatif)
