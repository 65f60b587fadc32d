"""`chainatlas sites …`: the 载体台账 — import, list, match to a need or a project, hold and release, use of space."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from chainatlas import config
from chainatlas.cli import output
from chainatlas.cli.errors import fail, run, user_name
from chainatlas.domain import sites as dom
from chainatlas.domain.chain import load_chain
from chainatlas.domain.money import format_yuan
from chainatlas.ingest.mapping import MappingError, load_mapping_file
from chainatlas.services import sites
from chainatlas.services.catalog import resolve_zone
from chainatlas.services.pipeline import get_project
from chainatlas.store.models import Site

sites_app = typer.Typer(help="载体台账 (sites): 导入、列表、智慧选址匹配、预留与释放、亩均与闲置。", no_args_is_help=True)
DEMO_NOTE = "注意：载体台账含演示数据（demo，程序生成），不代表真实情况。"


def _area(site: Site) -> str:
    return f"{dom.to_mu(site.area_m2, 'm2'):,.1f}亩" if site.kind == "land" else f"{site.area_m2:,.0f}㎡"


@sites_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="载体台账文件 (CSV/XLSX，UTF-8 或 GBK)"),
    zone: str = typer.Option(None, "--zone", help="开发区 id 或名称 (zone)"),
    mapping: Path = typer.Option(None, "--mapping", help="列名对照文件 (YAML/JSON)"),
    user: str = typer.Option(None, "--user", help="操作人 (recorded in the audit log)"),
) -> None:
    """导入载体台账：表头自动识别，亩与平方米均可，问题行暂存并逐行说明 (import a site ledger)."""
    try:
        override = load_mapping_file(mapping) if mapping else None
    except MappingError as exc:
        fail(str(exc))

    def work(session: Any) -> None:
        zone_row = resolve_zone(session, zone or config.default_zone())
        result = sites.import_sites(session, file, zone_id=zone_row.id, by_user=user_name(user), mapping=override)
        typer.echo(f"{result.file}：共{result.rows}行，新增{result.inserted}个载体，更新{result.updated}个，"
                   f"未变{result.unchanged}个，暂存问题行{len({p.row for p in result.held})}行（批次 {result.batch_id}）")
        for p in result.held:
            typer.echo(f"  第{p.row}行“{p.column}”列：值“{p.value}”{p.problem}。{p.action}")

    run(work)


@sites_app.command("list")
def list_cmd(
    zone: str = typer.Option(None, "--zone", help="开发区 id 或名称 (zone)"),
    kind: str = typer.Option(None, "--kind", help="工业用地 / 标准厂房 / 写字楼"),
    status: str = typer.Option(None, "--status", help=f"状态：{'、'.join(dom.STATUSES)}"),
    fmt: output.Format = typer.Option(output.Format.table, "--format", help=output.FORMAT_HELP),
) -> None:
    """载体列表 (list sites)."""

    def work(session: Any) -> None:
        zone_row = resolve_zone(session, zone or config.default_zone())
        parks = {p.id: p.name for p in zone_row.parks}
        rows = sites.list_sites(session, zone_row.id, kind=dom.parse_kind(kind) if kind else None,
                                status=dom.parse_status(status) if status else None)
        out = output.console()
        output.emit(out, fmt, f"{zone_row.name}载体台账（{len(rows)}个）",
                    ("载体编号", "名称", "类型", "园区", "面积", "用地性质", "状态", "可供日期", "地址"),
                    [(s.code, s.name, dom.KINDS[s.kind], parks.get(s.park_id or "", ""), _area(s), s.land_use, s.status,
                      s.available_from, s.address) for s in rows])
        if any(s.source == "demo" for s in rows):
            output.note(out, fmt, DEMO_NOTE)

    run(work)


@sites_app.command("match")
def match_cmd(
    need_mu: float = typer.Option(None, "--need-mu", help="用地需求（亩）"),
    need_m2: float = typer.Option(None, "--need-m2", help="面积需求（平方米，厂房或写字楼）"),
    project: str = typer.Option(None, "--project", help="项目编号：按台账中的用地、类型、环节和日期匹配"),
    node: str = typer.Option("", "--node", help="产业链环节 id 或中文名 (node)"),
    kind: str = typer.Option(None, "--kind", help="工业用地 / 标准厂房 / 写字楼"),
    zone: str = typer.Option(None, "--zone", help="开发区 id 或名称 (zone)"),
    chain: str = typer.Option(None, "--chain", help="产业链 id (chain)"),
    limit: int = typer.Option(10, "--limit", min=1, max=200, help="最多列出几个"),
    fmt: output.Format = typer.Option(output.Format.table, "--format", help=output.FORMAT_HELP),
) -> None:
    """智慧选址：按需求为项目或目标企业排出合适载体，并说明理由 (rank sites for a need)."""
    chain_id = chain or config.default_chain()

    def work(session: Any) -> None:
        zone_row = resolve_zone(session, zone or config.default_zone())
        project_id = None
        if project:
            p = get_project(session, project)
            need, project_id = sites.need_for_project(session, p), p.id
        else:
            need = sites.need_from_args(need_mu=need_mu, need_m2=need_m2, kind=kind,
                                        node_id=load_chain(chain_id).resolve_node(node) if node else "")
        ranked = sites.match_sites(session, zone_row.id, need, chain_id=chain_id, project_id=project_id, limit=limit)
        parks = {p.id: p.name for p in zone_row.parks}
        need_text = f"{need.area_mu:,.1f}亩" if "land" in need.kinds else f"{need.area_m2:,.0f}㎡"
        out = output.console()
        output.emit(out, fmt, f"{zone_row.name}载体匹配：需求{need_text}（{len(ranked)}个可选）",
                    ("载体编号", "名称", "类型", "园区", "面积", "状态", "匹配分", "理由"),
                    [(m.site.code, m.site.name, dom.KINDS[m.site.kind], parks.get(m.site.park_id or "", ""),
                      _area(m.site), m.site.status, f"{m.score:.1f}", "；".join(m.reasons)) for m in ranked],
                    extra={"matches": [m.as_dict() for m in ranked]})  # JSON: the score's parts, as numbers
        if not ranked:
            output.note(out, fmt, "没有满足条件的载体（可供、用地性质允许、面积为需求的90%–300%）。可放宽面积或查看即将可供的载体。")

    run(work)


@sites_app.command("hold")
def hold_cmd(
    code: str = typer.Argument(..., help="载体编号"),
    project: str = typer.Option(..., "--project", help="为哪个项目预留（项目编号）"),
    note: str = typer.Option("", "--note", help="说明"),
    user: str = typer.Option(None, "--user", help="操作人"),
) -> None:
    """为项目预留载体（状态→洽谈中，记入历史和审计）(hold a site for a project)."""
    site = run(lambda s: sites.hold_site(s, code, project, by_user=user_name(user), note=note))
    typer.echo(f"载体 {site.code}（{site.name}）已为项目 {project} 预留，状态：{site.status}")


@sites_app.command("release")
def release_cmd(code: str = typer.Argument(..., help="载体编号"), note: str = typer.Option("", "--note"),
                user: str = typer.Option(None, "--user", help="操作人")) -> None:
    """释放预留的载体（状态→可供）(release a site)."""
    site = run(lambda s: sites.release_site(s, code, by_user=user_name(user), note=note))
    typer.echo(f"载体 {site.code}（{site.name}）已释放，状态：{site.status}")


@sites_app.command("status")
def status_cmd(code: str = typer.Argument(..., help="载体编号"),
               status: str = typer.Argument(..., help=f"新状态：{'、'.join(dom.STATUSES)}"),
               project: str = typer.Option(None, "--project", help="相关项目编号"),
               note: str = typer.Option("", "--note"), user: str = typer.Option(None, "--user")) -> None:
    """变更载体状态，如已出让、已租、已入驻 (change a site's status)."""
    site = run(lambda s: sites.set_status(s, code, status, by_user=user_name(user), project_code=project, note=note))
    typer.echo(f"载体 {site.code}（{site.name}）状态：{site.status}")


@sites_app.command("space")
def space_cmd(
    zone: str = typer.Option(None, "--zone", help="开发区 id 或名称 (zone)"),
    year: int = typer.Option(None, "--year", min=2000, max=2100, help="用地平衡的年份（默认今年）"),
    idle_months: int = typer.Option(12, "--idle-months", min=1, max=240, help="可供超过几个月算闲置"),
    fmt: str = typer.Option("table", "--format", help="table / json"),
) -> None:
    """空间利用：各园区亩均产值与亩均税收、闲置载体、年度用地需求与供给 (use of space)."""

    if fmt not in ("table", "json"):
        fail(f"--format 应为 table 或 json，现为“{fmt}”")

    def work(session: Any) -> None:
        zone_row = resolve_zone(session, zone or config.default_zone())
        y = year or config.today().year
        parks = sites.per_mu_by_park(session, zone_row.id)
        idle = sites.idle_sites(session, zone_row.id, idle_months)
        balance = sites.land_balance(session, zone_row.id, y)
        if fmt == "json":
            typer.echo(json.dumps({
                "parks": [{"park": p.name, "land_mu": round(p.land_mu, 2), "output_yuan": p.output_yuan,
                           "tax_yuan": p.tax_yuan, "output_per_mu_yuan": p.output_per_mu, "tax_per_mu_yuan": p.tax_per_mu,
                           "sites": p.sites, "assumed_plot_ratio": p.assumed_plot_ratio} for p in parks],
                "idle": [{"code": s.code, "name": s.name, "months": m} for s, m in idle],
                "land_balance": {"year": y, "need_mu": balance.need_mu, "likely_mu": balance.likely_mu,
                                 "available_mu": balance.available_mu, "warning": balance.warning},
            }, ensure_ascii=False, indent=2))
            return
        typer.echo(f"{zone_row.name}空间利用（口径：亩均=年产值或年税收÷占地亩数；厂房按建筑面积÷容积率折算占地）")
        for p in parks:
            note = f"（{p.assumed_plot_ratio}处未填容积率，按1.0计）" if p.assumed_plot_ratio else ""
            typer.echo(f"  {p.name}：占地{p.land_mu:,.1f}亩，亩均产值{format_yuan(_int(p.output_per_mu))}，"
                       f"亩均税收{format_yuan(_int(p.tax_per_mu))}，{p.sites}处载体{note}")
        typer.echo(f"闲置超过{idle_months}个月的载体：{len(idle)}个")
        for s, m in idle:
            typer.echo(f"  {s.code} {s.name} {_area(s)} 已闲置{m}个月")
        typer.echo(f"{y}年用地：已签约待落地{balance.need_mu:,.1f}亩，在谈{balance.likely_mu:,.1f}亩，"
                   f"年内可供工业用地{balance.available_mu:,.1f}亩，标准厂房{balance.available_factory_m2:,.0f}㎡")
        if balance.warning:
            typer.echo(balance.warning)

    run(work)


def _int(value: float | None) -> int | None:
    return None if value is None else round(value)


def register(app: typer.Typer) -> None:
    app.add_typer(sites_app, name="sites")

