"""`chainatlas wallchart | export | brief`: the printed wall chart, Excel exports and the monthly brief."""

from __future__ import annotations

from datetime import date
from enum import Enum
from pathlib import Path

import typer

from chainatlas import config
from chainatlas.domain.chain import ChainFileError
from chainatlas.services.catalog import ZoneNotFound
from chainatlas.store import db


class Paper(str, Enum):
    A0 = "A0"
    A1 = "A1"
    A2 = "A2"
    A3 = "A3"


class ExportKind(str, Enum):
    firms = "firms"
    gaps = "gaps"
    targets = "targets"
    ledger = "ledger"
    kpi = "kpi"
    check = "check"
    placements = "placements"


def _run(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """One unit of work; errors a user can fix (zone, chain, paper, file name, font) become Chinese messages."""
    from chainatlas.engines.wall_layout import WallChartTooDense
    from chainatlas.services.reports import FontMissing

    try:
        with db.session_scope() as session:
            return fn(session, *args, **kwargs)
    except (ZoneNotFound, ChainFileError, WallChartTooDense, FontMissing, ValueError, LookupError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


def wallchart(
    zone: str = typer.Option(config.default_zone(), "--zone", help="开发区 id 或名称 (zone id or name)"),
    size: Paper = typer.Option(Paper.A0, "--size", help="纸张：A0、A1、A2 或 A3 (paper size)"),
    out: Path = typer.Option(..., "--out", help="输出文件 .pdf 或 .svg (output file)"),
    chain: str = typer.Option(config.default_chain(), "--chain", help="产业链 id (chain id)"),
) -> None:
    """产业链企业挂图：按上中下游排布节点与本区企业，标注强弱、缺口与目标企业 (print the wall chart)."""
    from chainatlas.services.reports import render_wallchart

    paths = _run(render_wallchart, zone, chain, size.value, out)
    typer.echo(f"✓ 挂图已生成（{size.value}）：" + "、".join(str(p) for p in paths))


def export(
    kind: ExportKind = typer.Argument(..., help="firms 企业名录 | gaps 缺口 | targets 目标企业 | ledger 台账 | kpi 年度目标 | check 归链核实清单 | "
                                           "placements 全库归链结果 CSV（与 classify 同列）"),
    out: Path = typer.Option(..., "--out", help="输出文件：Excel .xlsx；placements 为 .csv (output file)"),
    zone: str = typer.Option(config.default_zone(), "--zone", help="开发区 id 或名称 (zone id or name)"),
    chain: str = typer.Option(config.default_chain(), "--chain", help="产业链 id (chain id)"),
    year: int = typer.Option(None, "--year", help="年度（年度目标与台账月度汇总），默认今年 (year)"),
    as_of: str = typer.Option(None, "--as-of", help="统计截止日 YYYY-MM-DD，默认今天 (as-of date)"),
) -> None:
    """导出 Excel：企业名录、缺口与机会、目标企业、项目台账、年度目标、归链核实清单；或全库归链结果 CSV (export)."""
    from chainatlas.services.reports import EXPORT_TITLES, export as run_export

    if kind is ExportKind.placements:
        _export_placements(chain, out)
        return

    day = _date(as_of)
    rows = _run(run_export, kind.value, zone, out, chain_id=chain, year=year, as_of=day)
    typer.echo(f"✓ {EXPORT_TITLES[kind.value]}已导出：{out}（{rows} 行）")


def _export_placements(chain: str, out: Path) -> None:
    """The database's placements with `classify`'s columns (id = USCC, else stock code, else name)."""
    from chainatlas.services.placement import placement_rows, write_placements_csv

    rows = _run(placement_rows, chain)
    write_placements_csv(rows, out)
    firms = len({r.id for r in rows})
    typer.echo(f"✓ 归链结果已导出：{out}（{len(rows)} 行，{firms} 家企业）")


def brief(
    month: str = typer.Option(None, "--month", help="月份 YYYY-MM，默认本月（统计截至今天）(month)"),
    out: Path = typer.Option(..., "--out", help="输出 PDF 文件 (output PDF)"),
    zone: str = typer.Option(config.default_zone(), "--zone", help="开发区 id 或名称 (zone id or name)"),
    chain: str = typer.Option(config.default_chain(), "--chain", help="产业链 id (chain id)"),
) -> None:
    """招商月报 PDF：目标进度图表、新增与停滞项目、缺口与目标企业 (monthly brief as PDF)."""
    from chainatlas.services.reports import render_brief

    path = _run(render_brief, zone, month or f"{config.today():%Y-%m}", out, chain)
    typer.echo(f"✓ 月报已生成：{path}")


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        typer.echo(f"--as-of “{text}” 不是有效日期，应为 YYYY-MM-DD，例如 2024-10-31", err=True)
        raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    app.command("wallchart")(wallchart)
    app.command("export")(export)
    app.command("brief")(brief)
