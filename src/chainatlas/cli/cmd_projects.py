"""`chainatlas projects …` (the 招商项目台账) and `chainatlas kpi` (targets, progress, projection, alerts)."""

from __future__ import annotations

from functools import partial
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from chainatlas import config
from chainatlas.cli import output
from chainatlas.cli.errors import fail, run, user_name
from chainatlas.domain.chain import load_chain
from chainatlas.domain.money import format_yuan
from chainatlas.domain.stages import ALL_STAGES
from chainatlas.ingest.values import ValueProblem, parse_amount_yuan, parse_date, split_list
from chainatlas.services import pipeline
from chainatlas.services.catalog import resolve_zone

projects_app = typer.Typer(help="招商项目台账 (project pipeline): 列表、详情、登记、阶段、走访、导入导出。",
                           no_args_is_help=True)
DEMO_NOTE = "[bold yellow]注意：台账含演示数据（demo），不代表真实情况。[/]"




def _table(title: str, heads: tuple[str, ...]) -> Table:
    table = Table(title=title)
    for head in heads:
        table.add_column(head, overflow="fold")  # wrap, never cut: a truncated name or amount misleads
    return table


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueProblem as exc:
        fail(f"{option} “{value}”：{exc.message}。{exc.action}")
    return None


def _nodes(value: str, chain_id: str) -> list[str]:
    chain = load_chain(chain_id)
    by_name = {n.name_zh: n.id for n in chain.nodes.values()}
    return [by_name.get(item, item) for item in split_list(value)]


# ---------------------------------------------------------------- list / show


@projects_app.command("list")
def list_cmd(
    zone: str = typer.Option(None, "--zone", help="开发区 id 或名称 (zone)"),
    stage: list[str] = typer.Option([], "--stage", help=f"阶段，可多次：{'、'.join(ALL_STAGES)}"),
    node: str = typer.Option(None, "--node", help="产业链环节 id 或中文名，含其下级环节 (node)"),
    officer: str = typer.Option(None, "--officer", help="责任人 (officer)"),
    year: int = typer.Option(None, "--signed-year", help="签约年份 (signed in year)"),
    text: str = typer.Option(None, "--text", help="名称、投资方或备注含此文字 (text search)"),
    by_stage: bool = typer.Option(False, "--board", help="按阶段分栏显示 (board by stage)"),
    fmt: output.Format = typer.Option(output.Format.table, "--format", help=output.FORMAT_HELP),
) -> None:
    """项目列表，可按阶段、环节、责任人筛选 (list projects with filters)."""
    node = output.node_ids(config.default_chain(), [node])[0] if node else None

    def work(session: Any) -> None:
        zone_row = resolve_zone(session, zone or config.default_zone())
        flt = pipeline.ProjectFilter(zone_id=zone_row.id, stages=stage, node_id=node, officer=officer,
                                     signed_year=year, text=text)
        rows = pipeline.list_projects(session, flt)
        console = output.console()
        if by_stage:
            board = pipeline.board(session, zone_row.id)
            wanted = {p.id for p in rows}
            for s, items in board.items():
                items = [p for p in items if p.id in wanted]
                total = sum(p.investment_yuan or 0 for p in items)
                console.print(f"[bold]{s}[/]  {len(items)}个  {format_yuan(total)}")
                for p in items:
                    console.print(f"  {p.code}  {p.name}  {format_yuan(p.investment_yuan)}  {p.officer}")
        else:
            output.emit(console, fmt, f"{zone_row.name}招商项目台账（{len(rows)}个）",
                        ("项目编号", "项目名称", "投资方", "投资金额", "阶段", "签约日期", "责任人", "下一步", "下一步日期"),
                        [[p.code, p.name, p.investor_name, format_yuan(p.investment_yuan), p.stage, p.signed_on or "",
                          p.officer, p.next_action, p.next_action_on or ""] for p in rows])
        if any(p.source == "demo" for p in rows):
            output.note(console, fmt, DEMO_NOTE)

    run(work)


@projects_app.command("show")
def show(code: str = typer.Argument(..., help="项目编号 (project code)")) -> None:
    """项目详情与历史（阶段变更、走访、修改）(project details and history)."""

    def work(session: Any) -> None:
        p = pipeline.get_project(session, code)
        console = output.console()
        console.print(f"[bold]{p.code} {p.name}[/]  阶段：{p.stage}（{p.stage_changed_on or '—'}）")
        chain = load_chain(p.chain_id or config.default_chain())
        fields = [
            ("投资方", p.investor_name), ("产业链环节", "、".join(chain.nodes[n].name_zh if n in chain.nodes else n
                                                             for n in p.node_ids or [])),
            ("项目类型", p.project_type), ("招商目的", p.purpose), ("投资金额", format_yuan(p.investment_yuan)),
            ("固定资产投资", format_yuan(p.fixed_investment_yuan)), ("当年到位资金", format_yuan(p.funds_in_place_yuan)),
            ("预计年产值", format_yuan(p.expected_output_yuan)), ("预计年税收", format_yuan(p.expected_tax_yuan)),
            ("就业人数", p.jobs), ("用地（亩）", p.land_mu), ("园区", p.park_id), ("责任人", p.officer),
            ("区级责任领导", p.leader), ("项目来源", f"{p.source_kind} {p.source_detail}".strip()),
            ("签约/注册/开工/投产", " / ".join(str(d or "—") for d in (p.signed_on, p.registered_on, p.started_on,
                                                                       p.producing_on))),
            ("搁置/终止原因", p.hold_reason), ("下一步", f"{p.next_action} {p.next_action_on or ''}".strip()),
            ("进度、备注", p.notes),
        ]
        for label, value in fields:
            if value not in (None, "", "—"):
                console.print(f"  {label}：{value}")
        table = _table("项目历史 (history)", ("日期", "类别", "内容", "操作人"))
        for ev in pipeline.project_history(session, p.code):
            table.add_row(ev.on.isoformat(), ev.kind, ev.text, ev.by_user)
        console.print(table)
        if p.source == "demo":
            console.print(DEMO_NOTE)

    run(work)


# ---------------------------------------------------------------- writes


@projects_app.command("add")
def add(
    name: str = typer.Option(..., "--name", help="项目名称 (project name)"),
    investor: str = typer.Option("", "--investor", help="投资方名称 (investor)"),
    nodes: str = typer.Option("", "--nodes", help="产业链环节，名称或 id，用“、”或逗号分隔 (nodes)"),
    amount: str = typer.Option(None, "--amount", help="投资金额，如 12亿、8000万；只写数字按万元 (investment)"),
    project_type: str = typer.Option("新建", "--type", help="新建/扩建/总部/研发中心/其他"),
    officer: str = typer.Option("", "--officer", help="责任人 (officer)"),
    park: str = typer.Option(None, "--park", help="园区 id (park)"),
    source_kind: str = typer.Option("", "--source", help="项目来源：目标推荐/以商招商/展会/拜访…"),
    on: str = typer.Option(None, "--on", help="登记日期，默认今天 (date registered)"),
    zone: str = typer.Option(None, "--zone", help="开发区 id 或名称 (zone)"),
    user: str = typer.Option(None, "--user", help="操作人，默认当前系统用户 (acting user)"),
) -> None:
    """登记新项目（阶段：线索）(register a new project as a lead)."""

    def work(session: Any) -> None:
        zone_row = resolve_zone(session, zone or config.default_zone())
        chain_id = config.default_chain()
        project = pipeline.create_project(
            session, zone_id=zone_row.id, name=name, by_user=user_name(user), investor_name=investor,
            node_ids=_nodes(nodes, chain_id), chain_id=chain_id, source_kind=source_kind,
            investment_yuan=parse_amount_yuan(amount, 10_000) if amount else None, on=_date(on, "--on"),
            project_type=project_type, officer=officer, park_id=park,
        )
        typer.echo(f"已登记项目 {project.code} {project.name}（线索）")

    run(work)


@projects_app.command("stage")
def stage(
    code: str = typer.Argument(..., help="项目编号 (project code)"),
    to_stage: str = typer.Argument(..., help=f"新阶段：{'、'.join(ALL_STAGES)}"),
    on: str = typer.Option(..., "--on", help="变更日期，如 2024-05-01 (date of the change)"),
    reason: str = typer.Option("", "--reason", help="原因：退回、搁置、终止、重新启用时必填 (reason)"),
    admin: bool = typer.Option(False, "--admin", help="以管理员身份重新启用已终止项目 (reopen as admin)"),
    user: str = typer.Option(None, "--user", help="操作人 (acting user)"),
) -> None:
    """变更项目阶段，记录日期与原因 (move a project to another stage)."""

    def work(session: Any) -> None:
        before = pipeline.get_project(session, code).stage
        p = pipeline.change_stage(session, code, to_stage, on=_date(on, "--on"), by_user=user_name(user), reason=reason,
                                  as_admin=admin)
        typer.echo(f"{p.code} {p.name}：{before} → {p.stage}（{p.stage_changed_on}）")

    run(work)


@projects_app.command("log")
def log(
    code: str = typer.Argument(..., help="项目编号 (project code)"),
    content: str = typer.Argument(..., help="走访/联系内容 (what happened)"),
    on: str = typer.Option(..., "--on", help="日期 (date)"),
    kind: str = typer.Option("拜访", "--kind", help=f"方式：{'、'.join(pipeline.ACTIVITY_KINDS)}"),
    next_action: str = typer.Option(None, "--next", help="下一步工作 (next action)"),
    next_on: str = typer.Option(None, "--next-on", help="下一步工作日期 (next action date)"),
    user: str = typer.Option(None, "--user", help="记录人 (acting user)"),
) -> None:
    """登记走访或联系记录，可同时更新下一步工作 (log a visit or contact)."""

    def work(session: Any) -> None:
        pipeline.log_activity(session, code, on=_date(on, "--on"), by_user=user_name(user), content=content, kind=kind,
                              next_action=next_action, next_action_on=_date(next_on, "--next-on"))
        typer.echo(f"已记录 {code} {on} {kind}")

    run(work)


@projects_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="台账 Excel 文件 (.xlsx)"),
    zone: str = typer.Option(None, "--zone", help="未填“所属开发区”时使用的开发区 (default zone)"),
    user: str = typer.Option(None, "--user", help="操作人 (acting user)"),
) -> None:
    """导入项目台账（按项目编号更新，重复导入不产生重复）(import the ledger from Excel)."""

    def work(session: Any) -> pipeline.LedgerImportResult:
        return pipeline.import_ledger(session, file, by_user=user_name(user), zone_id=zone or config.default_zone(),
                                    chain_id=config.default_chain())

    r = run(work)
    typer.echo(f"已导入 {r.file}：{r.rows}行，新增{r.inserted}个，更新{r.updated}个，未变{r.unchanged}个；"
               f"阶段记录新增{r.stage_changes_added}条，走访记录新增{r.activities_added}条（批次 {r.batch_id}）")


@projects_app.command("export")
def export_cmd(
    file: Path = typer.Argument(..., dir_okay=False, help="输出 Excel 文件 (.xlsx)"),
    zone: str = typer.Option(None, "--zone", help="开发区 id 或名称 (zone)"),
    year: int = typer.Option(None, "--year", help="月度汇总的年份，默认截至日期所在年 (summary year)"),
    as_of: str = typer.Option(None, "--as-of", help="截至日期，默认今天 (as of)"),
) -> None:
    """导出项目台账、阶段变更、走访记录与月度汇总 (export the ledger to Excel)."""

    def work(session: Any) -> int:
        return pipeline.export_ledger(session, file, zone or config.default_zone(), chain_id=config.default_chain(),
                                      year=year, as_of=_date(as_of, "--as-of"))

    n = run(work)
    typer.echo(f"已导出 {n} 个项目到 {file}")


# ---------------------------------------------------------------- kpi


def kpi(
    year: int = typer.Option(None, "--year", help="考核年份，默认今年 (year)"),
    zone: str = typer.Option(None, "--zone", help="开发区 id 或名称 (zone)"),
    as_of: str = typer.Option(None, "--as-of", help="截至日期，默认今天；往年默认年末 (as of)"),
    node: str = typer.Option(None, "--node", help="只看某一产业链环节：id 或中文名，如 动力电池 (one node)"),
    method: str = typer.Option("pipeline", "--method", help="预测方法：pipeline（在库项目加权）或 run_rate（序时外推）"),
    fmt: output.Format = typer.Option(output.Format.table, "--format", help=output.FORMAT_HELP),
) -> None:
    """年度目标完成情况：目标、完成、完成率、年底预计、序时进度与预警 (targets, progress, projection, alerts)."""

    year = year or config.today().year
    node = output.node_ids(config.default_chain(), [node])[0] if node else None

    def work(session: Any) -> None:
        zone_row = resolve_zone(session, zone or config.default_zone())
        r = pipeline.kpi_report(session, zone_row.id, year, as_of=_date(as_of, "--as-of"), node_id=node,
                                   chain_id=config.default_chain(), method=method)
        nodes = load_chain(r.chain_id).nodes
        scope = f"·{nodes[node].name_zh}" if node and node in nodes else ""
        rows = []
        for row in r.rows:
            show = partial(pipeline.format_measure, row.unit)
            rows.append([row.label_zh, show(row.target), show(row.actual), "—" if row.pct is None else f"{row.pct:.1f}%",
                         show(row.time_target), "—" if row.ahead is None else ("超时序" if row.ahead else "滞后"),
                         show(row.projection), "有风险" if row.at_risk else ""])
        console = output.console()
        output.emit(console, fmt, f"{zone_row.name}{scope} {year}年招商目标完成情况（截至{r.as_of}，已过{r.months_elapsed}个月）",
                    ("指标", "年度目标", "已完成", "完成率", "序时目标", "序时进度", "年底预计", "预警"), rows,
                    {"as_of": r.as_of.isoformat(), "method": r.method_zh, "alerts": [a.message_zh for a in r.alerts]})
        if fmt is output.Format.table:
            console.print(f"预测方法：{r.method_zh}")
            if r.alerts:
                console.print(f"[bold]预警（{len(r.alerts)}条）[/]")
                kinds = {"target_at_risk": "目标", "overdue": "逾期", "stalled": "停滞", "unknown_measure": "指标"}
                for a in r.alerts:
                    console.print(f"  \\[{kinds.get(a.kind, a.kind)}] {a.message_zh}")
        if r.has_demo:
            output.note(console, fmt, DEMO_NOTE)

    run(work)


def register(app: typer.Typer) -> None:
    app.add_typer(projects_app, name="projects")
    app.command("kpi")(kpi)
