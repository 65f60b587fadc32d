"""`chainatlas import enterprises|relations FILE` and `chainatlas review list|accept|reject|split`."""

from __future__ import annotations

from datetime import date
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chainatlas.cli import output
from chainatlas.cli.errors import fail, user_name
from chainatlas.ingest.mapping import MappingError, field_labels
from chainatlas.ingest.reader import ReadError
from chainatlas.services.catalog import ZoneNotFound
from chainatlas.store import db

import_app = typer.Typer(help="导入数据 (import data): 企业名单、产品线、配套关系。", no_args_is_help=True)
review_app = typer.Typer(help="合并审核 (merge review): 疑似同一企业的记录。", no_args_is_help=True)
console = output.console()
USER_ERRORS = (ReadError, MappingError, ZoneNotFound)
AS_OF_HELP = "文件中数据的截至日期 YYYY-MM-DD，默认导入当天；超过时效的数据在页面上标“待更新” (as-of date of the facts)"
UNIT_HELP = ("金额列的单位：万元 / 元 / 亿元（用于未注明单位的金额列），或 列名=万元；可重复 "
             "(unit of money columns that state none, e.g. 万元 for Tushare's reg_capital)")


def _as_of(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of “{text}” 不是日期：请写成 YYYY-MM-DD，如 2024-05-31", err=False)


def _user_errors() -> tuple[type[Exception], ...]:
    from chainatlas.services.ingest import ImportProblem, ReviewError

    return (*USER_ERRORS, ImportProblem, ReviewError)


def _run(fn: Callable[..., Any], path: Path | None, **kwargs: Any) -> Any:
    """Run an import in one transaction with a progress bar; a user mistake prints Chinese, never a traceback."""
    db.migrate()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=max(total, 1))
                    if not console.is_terminal:  # logs and scripts see each stage start
                        print(f"{stage} {done}/{total}", flush=True)
                bar.update(tasks[stage], completed=done, total=max(total, 1))

            with db.session_scope() as session:
                return fn(session, path, progress=progress, **kwargs) if path else fn(session, **kwargs)
    except _user_errors() as exc:
        fail(str(exc), err=False)
    except KeyboardInterrupt:
        console.print("[yellow]已中断：本次导入未写入任何数据 (interrupted: nothing was written)[/]")
        raise typer.Exit(130) from None
    except OSError as exc:  # permission denied, a folder given as a file, a full disk
        fail(f"无法读取或写入 {exc.filename or ''}：{exc.strerror or exc}", err=False)


def _print_preview(path: Path, kind: str, mapping: Path | None, sheet: str | None, rows: int,
                   units: list[str] = ()) -> None:
    from chainatlas.services.ingest import preview

    try:
        pv = preview(path, kind=kind, mapping=mapping, sheet=sheet, rows=rows, units=list(units))
    except _user_errors() as exc:
        fail(str(exc), err=False)
    labels = field_labels(pv.mapping.fields)
    where = f"工作表“{pv.table.sheet}”，" if pv.table.sheet else (f"编码 {pv.table.encoding}，" if pv.table.encoding else "")
    console.print(f"{path.name}：{where}表头在第 {pv.table.header_row} 行，数据 {len(pv.table)} 行"
                  f"（空行 {pv.table.blank_rows} 行）", highlight=False)
    t = Table(title="列对照 (header mapping)")
    for h in ("列", "对应字段", "方式", "单位"):
        t.add_column(h)
    how_zh = {"auto": "自动识别", "override": "映射文件", "ignored": "忽略", "unmapped": "未识别（不导入）"}
    unit_of = {u.header: u for u in pv.units}
    for c in pv.mapping.columns:
        money = unit_of.get(c.header)
        unit = (money.shown + (" ⚠" if money.suspect else "")) if money else (
            "" if c.multiplier == 1 else f"×{c.multiplier:,}")
        t.add_row(c.header, f"{labels.get(c.field, '')} ({c.field})" if c.field else "—", how_zh[c.how], unit)
    console.print(t)
    for money in pv.units:
        if money.suspect:
            console.print(f"[yellow]单位提醒：[/]{money.warning()}", highlight=False)
    s = Table(title=f"前 {len(pv.sample)} 行 (first rows)")
    for h in pv.table.headers:
        s.add_column(h, overflow="fold", max_width=24)
    for row in pv.sample:
        s.add_row(*row)
    console.print(s)
    console.print("预览未写入数据库 (preview only, nothing written)。")


def _print_summary(summary: Any, errors_out: Path | None) -> None:
    from chainatlas.services.ingest import write_error_report

    if summary.already_imported:
        console.print(f"{summary.file_name} 已于批次 #{summary.batch_id} 导入过（内容相同），本次未做任何改动 "
                      "(already imported; nothing changed)。", highlight=False)
        return
    console.print(f"导入完成 {summary.file_name}（批次 #{summary.batch_id}，用时 {summary.seconds:.1f} 秒）", highlight=False)
    lines = [("数据行", summary.rows_total), ("新增", summary.rows_inserted),
             ("与已有企业或文件内重复行合并", summary.rows_merged)]
    if summary.kind == "products":
        lines = [("数据行", summary.rows_total), ("新增产品线", summary.rows_inserted),
                 ("文件内重复的产品线", summary.rows_merged), ("产品线有变化的企业", summary.enterprises_updated)]
    elif summary.kind == "enterprises":
        lines += [("疑似重复、已自动合并（可拆分）", summary.rows_linked), ("疑似重复、待审核", summary.rows_review),
                  ("补全了已有企业的信息", summary.enterprises_updated)]
    else:
        lines += [("新建的企业（供应商/客户原本不在库中）", summary.enterprises_created)]
    lines += [("有问题、暂未导入", summary.rows_held), ("空行（跳过）", summary.blank_rows)]
    for label, n in lines:
        console.print(f"  {label}：{n:,}", highlight=False)
    for zid, n in summary.zone_counts.items():
        console.print(f"  新增企业中位于开发区“{summary.zone_names.get(zid, zid)}”的：{n:,}", highlight=False)
    for chain_id, n in summary.placed.items():
        console.print(f"  本次涉及的企业归到产业链 {chain_id} 上的：{n:,}", highlight=False)
    if summary.rows_review:
        console.print("  用 chainatlas review list 查看待审核的疑似重复企业。")
    if summary.problems:
        console.print("问题示例 (first problems)：")
        for pr in summary.problems[:10]:
            console.print(f"  第{pr.row}行 [{pr.column}] “{pr.value}”：{pr.problem}。{pr.action}", highlight=False)
        if errors_out:
            write_error_report(summary.problems, errors_out)
            console.print(f"完整问题清单已保存到 {errors_out}", highlight=False)
        else:
            console.print("加 --errors-out 问题清单.xlsx 可导出完整问题清单。")


@import_app.command("enterprises")
def import_enterprises_cmd(
    file: Path = typer.Argument(..., help="企业名单文件 .csv/.tsv/.xlsx/.parquet (enterprise list)"),
    zone: str = typer.Option(None, "--zone", help="只按该开发区判断企业是否在区内，id 或名称，如 wuhan-edz (zone)"),
    mapping: Path = typer.Option(None, "--mapping", help="列对照文件 YAML/JSON (header mapping override)"),
    sheet: str = typer.Option(None, "--sheet", help="Excel 工作表名，默认第一个 (worksheet)"),
    preview_only: bool = typer.Option(False, "--preview", help="只显示列对照和前几行，不写入 (preview, no writes)"),
    errors_out: Path = typer.Option(None, "--errors-out", help="把有问题的行导出为 Excel (error report .xlsx)"),
    no_fuzzy: bool = typer.Option(False, "--no-fuzzy", help="只按信用代码/股票代码/名称精确匹配 (exact matching only)"),
    unit: list[str] = typer.Option([], "--unit", help=UNIT_HELP),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    user: str = typer.Option(None, "--user", help="操作人，默认当前系统用户 (acting user)"),
) -> None:
    """导入企业名单 (import an enterprise list): 自动识别编码、表头和列名，校验后入库；整批一个事务，可重复执行。"""
    if preview_only:
        _print_preview(file, "enterprises", mapping, sheet, 5, unit)
        return
    from chainatlas.services.ingest import import_enterprises

    summary = _run(import_enterprises, file, zone_id=zone, mapping=mapping, sheet=sheet, by_user=user_name(user),
                   fuzzy=not no_fuzzy, units=unit, as_of=_as_of(as_of))
    _print_summary(summary, errors_out)


@import_app.command("relations")
def import_relations_cmd(
    file: Path = typer.Argument(..., help="配套关系文件：供应商、客户、产品、年份、金额 (supplier→customer file)"),
    mapping: Path = typer.Option(None, "--mapping", help="列对照文件 YAML/JSON (header mapping override)"),
    sheet: str = typer.Option(None, "--sheet", help="Excel 工作表名 (worksheet)"),
    preview_only: bool = typer.Option(False, "--preview", help="只预览，不写入 (preview, no writes)"),
    errors_out: Path = typer.Option(None, "--errors-out", help="把有问题的行导出为 Excel (error report .xlsx)"),
    unit: list[str] = typer.Option([], "--unit", help=UNIT_HELP),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    user: str = typer.Option(None, "--user", help="操作人 (acting user)"),
) -> None:
    """导入供应商→客户配套关系 (import supplier→customer relations)；不在库中的企业会新建并标注来源。"""
    if preview_only:
        _print_preview(file, "relations", mapping, sheet, 5, unit)
        return
    from chainatlas.services.ingest import import_relations

    summary = _run(import_relations, file, mapping=mapping, sheet=sheet, by_user=user_name(user), units=unit,
                   as_of=_as_of(as_of))
    _print_summary(summary, errors_out)


@import_app.command("products")
def import_products_cmd(
    file: Path = typer.Argument(..., help="产品文件：每行一家企业的一条产品线，如 股票代码,产品,收入占比 (long product file)"),
    mapping: Path = typer.Option(None, "--mapping", help="列对照文件 YAML/JSON (header mapping override)"),
    sheet: str = typer.Option(None, "--sheet", help="Excel 工作表名 (worksheet)"),
    preview_only: bool = typer.Option(False, "--preview", help="只预览，不写入 (preview, no writes)"),
    errors_out: Path = typer.Option(None, "--errors-out", help="把有问题的行导出为 Excel (error report .xlsx)"),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    user: str = typer.Option(None, "--user", help="操作人 (acting user)"),
) -> None:
    """导入主营产品及收入占比 (import product lines with revenue shares)：按信用代码、股票代码或名称找到库中企业，补充产品线后重新归链。"""
    if preview_only:
        _print_preview(file, "products", mapping, sheet, 5)
        return
    from chainatlas.services.ingest import import_products

    summary = _run(import_products, file, mapping=mapping, sheet=sheet, by_user=user_name(user), as_of=_as_of(as_of))
    _print_summary(summary, errors_out)


@import_app.command("errors")
def import_errors_cmd(
    batch: int = typer.Argument(..., help="导入批次号，见导入完成时的提示 (batch id)"),
    out: Path = typer.Option(..., "--out", help="输出 Excel 文件 (.xlsx)"),
) -> None:
    """导出某次导入暂未导入的问题行 (export the held-back rows of an import batch as Excel)。"""
    from chainatlas.services.ingest import held_problems, write_error_report

    problems = _run(lambda session: held_problems(session, batch), None)
    if not problems:
        console.print(f"批次 #{batch} 没有问题行（或批次不存在）。", highlight=False)
        return
    write_error_report(problems, out)
    console.print(f"批次 #{batch} 的 {len(problems)} 条问题已保存到 {out}", highlight=False)


@review_app.command("list")
def review_list(
    status: str = typer.Option("pending", "--status", help="pending/accepted/rejected/split"),
    limit: int = typer.Option(50, "--limit", help="最多显示条数 (max rows)"),
) -> None:
    """列出疑似重复企业 (list merge candidates), 可能性从高到低。"""
    from chainatlas.services.ingest import count_pending, list_candidates

    def run(session: Any) -> tuple[list, int]:
        return list_candidates(session, status=status, limit=limit), count_pending(session)

    items, pending = _run(run, None)
    if not items:
        console.print(f"没有状态为 {status} 的记录。")
        return
    t = Table(title=f"合并审核（待审核共 {pending} 条）")
    for h in ("编号", "可能性", "企业 A", "企业 B", "依据"):
        t.add_column(h, overflow="fold")
    for it in items:
        t.add_row(str(it.id), f"{it.probability:.0%}", f"#{it.left['id']} {it.left['name']}\n{it.left['address']}",
                  f"#{it.right['id']} {it.right['name']}\n{it.right['address']}", "；".join(it.evidence.values()))
    console.print(t)
    console.print("接受：chainatlas review accept 编号；拒绝：reject 编号；撤销合并：split 编号")


def _decide(action: str, candidate_id: int, user: str | None) -> None:
    from chainatlas.services import ingest

    fn = {"accept": ingest.accept, "reject": ingest.reject, "split": ingest.split}[action]
    c = _run(lambda session: fn(session, candidate_id, user_name(user)), None)
    done = {"accept": f"已合并：#{c.right_id} 并入 #{c.left_id}（可用 split {c.id} 撤销）",
            "reject": f"已标记 #{c.left_id} 与 #{c.right_id} 不是同一企业",
            "split": f"已拆分：#{c.right_id} 与 #{c.left_id} 恢复为两家企业"}[action]
    console.print(done, highlight=False)


@review_app.command("accept")
def review_accept(candidate_id: int = typer.Argument(..., help="编号 (id)"),
                  user: str = typer.Option(None, "--user", help="操作人 (acting user)")) -> None:
    """确认是同一企业并合并 (accept: merge B into A)。"""
    _decide("accept", candidate_id, user)


@review_app.command("reject")
def review_reject(candidate_id: int = typer.Argument(..., help="编号 (id)"),
                  user: str = typer.Option(None, "--user", help="操作人 (acting user)")) -> None:
    """确认不是同一企业 (reject: they are different firms)。"""
    _decide("reject", candidate_id, user)


@review_app.command("split")
def review_split(candidate_id: int = typer.Argument(..., help="编号 (id)"),
                 user: str = typer.Option(None, "--user", help="操作人 (acting user)")) -> None:
    """撤销一次合并，恢复为两家企业 (split: undo a merge)。"""
    _decide("split", candidate_id, user)


def register(app: typer.Typer) -> None:
    # the project ledger (招商项目台账) is issue 7's importer; `import projects` is the same command as
    # `projects import`, listed here so every import sits under one verb
    from chainatlas.cli.cmd_projects import import_cmd as import_projects_cmd

    import_app.command("projects", help="导入招商项目台账 (import the project ledger), 同 projects import。")(
        import_projects_cmd)
    app.add_typer(import_app, name="import")
    app.add_typer(review_app, name="review")
