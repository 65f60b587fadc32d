"""`chainatlas targets | suppliers | backtest`: ranked targets per node, chain-leader attraction, and the
backtest of the supply-network prediction."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer
from rich.table import Table

from chainatlas import config
from chainatlas.cli import output
from chainatlas.domain.chain import ChainFileError, load_chain
from chainatlas.services.catalog.zones import ZoneNotFound
from chainatlas.store import db



def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def _run(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """One unit of work; errors a user can fix come out as their Chinese message and exit code 1."""
    db.migrate()
    try:
        with db.session_scope() as session:
            return fn(session, *args, **kwargs)
    except (ZoneNotFound, LookupError, ValueError, ChainFileError) as exc:
        _fail(str(exc))


def _parse_weights(specs: list[str]) -> dict[str, float] | None:
    if not specs:
        return None
    out: dict[str, float] = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        if not sep:
            _fail(f"--weight “{spec}” 应写成 分项=权重，例如 distance=0.3")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            _fail(f"--weight “{spec}” 的权重“{value}”不是数字")
    return out


def targets_cmd(
    node: list[str] = typer.Option(..., "--node", help="环节 id 或中文名，可重复，如 --node 动力电池 (node; repeatable)"),
    zone: str = typer.Option(None, "--zone", help="开发区 id 或名称，默认 CHAINATLAS_ZONE (zone)"),
    chain: str = typer.Option(None, "--chain", help="产业链 id，默认 CHAINATLAS_CHAIN (chain id)"),
    limit: int = typer.Option(50, "--limit", help="每个环节列出前几名 (targets per node)"),
    xlsx: Path = typer.Option(None, "--xlsx", help="导出 Excel 文件 .xlsx，每个环节一页 (export to Excel)"),
    to_pipeline: int = typer.Option(None, "--to-pipeline", help="把该企业编号作为线索转入项目台账 (enterprise id → pipeline)"),
    user: str = typer.Option(None, "--user", help="用户名：读取/保存该用户的权重 (user whose weights apply)"),
    weight: list[str] = typer.Option([], "--weight", help="临时权重 分项=值，可重复，如 distance=0.3 (weights)"),
    save: bool = typer.Option(False, "--save-weights", help="把 --weight 保存为该用户的权重 (save for --user)"),
    baseline: Path = typer.Option(
        None, "--baseline",
        help="全国基准矩阵（chainatlas matrix 的输出），默认 CHAINATLAS_BASELINE：列出该环节的专业化城市 (baseline)"),
    fmt: output.Format = typer.Option(output.Format.table, "--format", help=output.FORMAT_HELP),
) -> None:
    """目标企业排序：区外、位于该环节的企业，按契合度、链主关系、规模、资质、区位等打分并说明理由 (ranked targets)."""
    from chainatlas.services.targets import ranking as svc

    zone_id = zone or config.default_zone()
    chain_id = chain or config.default_chain()
    username = user or getpass.getuser() or "cli"
    weights = _parse_weights(weight)
    node = output.node_ids(chain_id, node)
    if save:
        if weights is None:
            _fail("--save-weights 需要同时给出 --weight 分项=值")
        saved = _run(svc.save_weights, username, weights)
        typer.echo(f"已保存用户 {username} 的权重：" + "，".join(f"{svc.COMPONENT_LABELS[k]} {v:g}" for k, v in saved.items()))
        weights = None
    if to_pipeline is not None:
        if len(node) != 1:
            _fail("--to-pipeline 时请只给一个 --node（项目所属环节）")
        project = _run(svc.target_to_project, zone_id, to_pipeline, node[0], by_user=username, chain_id=chain_id)
        typer.echo(f"已登记项目 {project.code}「{project.name}」，阶段：{project.stage}。来源说明：{project.source_detail}")
        return
    if xlsx is not None:
        from chainatlas.services.reports.target_list import export_targets_xlsx

        n = _run(export_targets_xlsx, zone_id, node, xlsx, chain_id=chain_id, limit=limit, weights=weights,
                 username=username)
        typer.echo(f"已导出 {n} 家目标企业 → {xlsx}")
        return
    console = output.console()
    try:
        chain_obj = load_chain(chain_id)
    except ChainFileError as exc:
        _fail(str(exc))
    data_rows: list[list[object]] = []  # every node's rows in one table, for csv / tsv / json
    national = None
    if baseline or config.baseline_path():
        from chainatlas.services.analysis.matrix import load_baseline

        try:
            national = load_baseline(baseline or config.baseline_path(), chain_obj)
        except ValueError as exc:
            _fail(str(exc))
    for node_id in node:
        rows = _run(svc.rank_targets, zone_id, node_id, chain_id, limit=limit, weights=weights, username=username)
        name = chain_obj.nodes[node_id].name_zh if node_id in chain_obj.nodes else node_id
        if fmt is not output.Format.table:
            rank = 0
            for r in rows:
                rank += 0 if r.vetoed else 1
                data_rows.append([name, "否决" if r.vetoed else rank, r.name, r.city_name, f"{r.score:.1f}",
                                  r.veto_reason if r.vetoed else r.reason_zh, r.enterprise_id])
            continue
        table = Table(title=f"{name}（{node_id}）目标企业，前 {limit} 名", show_lines=False)
        for col in ("#", "企业", "城市", "得分", "理由", "编号"):
            table.add_column(col, overflow="fold")
        rank = 0
        for r in rows:
            rank += 0 if r.vetoed else 1
            style = "dim red" if r.vetoed else None
            table.add_row("否决" if r.vetoed else str(rank), r.name, r.city_name, f"{r.score:.1f}", r.reason_zh,
                          str(r.enterprise_id), style=style)
        console.print(table)
        if not rows:
            console.print("该环节没有区外候选企业（请先导入企业并完成链上归类）。")
        if national is not None:
            console.print(_national_line(national, node_id))
    if fmt is not output.Format.table:
        output.emit(console, fmt, "目标企业", ("环节", "#", "企业", "城市", "得分", "理由", "编号"), data_rows)
    output.demo_notice(console, fmt)


def _national_line(national, node_id: str) -> str:  # type: ignore[no-untyped-def]
    """Where the node's firms are in the national baseline: the cities to look in beyond the database."""
    from chainatlas.ingest.address import divisions
    from chainatlas.services.analysis.matrix import node_cities

    j = national.nodes.index(node_id) if node_id in national.nodes else None
    total = int(national.node_all[j]) if j is not None else 0
    cities = node_cities(national, node_id)
    table = divisions()
    # a municipality's "city" (5001) is named by the municipality (重庆市)
    where = "、".join(f"{table.name(c.region) or table.name(c.region[:2]) or c.region} {c.firms} 家（RCA {c.rca:.1f}）"
                     for c in cities)
    return (f"全国基准（{Path(national.source).name}）：该环节 {total} 家企业；"
            f"专业化城市（RCA ≥ 1，企业最多）：{where or '无'}")


def suppliers_cmd(
    leader: str = typer.Option(..., "--leader", help="链主企业：名称、简称、英文名或编号 (chain leader)"),
    zone: str = typer.Option(None, "--zone", help="开发区 id 或名称 (zone)"),
    chain: str = typer.Option(None, "--chain", help="产业链 id (chain id)"),
    limit: int = typer.Option(30, "--limit", help="潜在配套企业列出前几名 (potential suppliers to list)"),
    fmt: output.Format = typer.Option(output.Format.table, "--format", help=output.FORMAT_HELP),
) -> None:
    """链主招商：链主的区外已知供应商（按环节），及供应链网络预测的潜在供应商与本地引荐关系 (leader's suppliers)."""
    from chainatlas.services.targets.ranking import suppliers_for_leader

    view = _run(suppliers_for_leader, zone or config.default_zone(), leader, chain or config.default_chain(), limit=limit)
    console = output.console()
    known = [["已知（区外）", x.node_name, x.name, x.city_name, "、".join(x.products), "", "", "、".join(x.warm_paths)]
             for rows in view.known_by_node.values() for x in rows]
    potential = [["潜在（网络预测）", x.node_name, x.name, x.city_name, "", f"{x.score:.2f}", "、".join(x.via),
                  "、".join(x.warm_paths)] for x in view.potential]
    if fmt is not output.Format.table:
        output.emit(console, fmt, f"{view.leader_name}的供应商",
                    ("类别", "环节", "企业", "城市", "产品", "预测分", "配套的相近整车厂", "本地引荐"), known + potential)
        output.demo_notice(console, fmt)
        return
    console.print(f"[bold]{view.leader_name}[/] 已知供应商：区内 {view.local_known} 家，区外 {view.outside_known} 家")
    output.emit(console, fmt, "区外已知供应商（按环节）— 首要招引对象", ("环节", "企业", "城市", "产品", "本地引荐"),
                [[r[1], r[2], r[3], r[4], r[7]] for r in known])
    output.emit(console, fmt, "潜在供应商（为相近整车厂配套）— 网络预测",
                ("#", "企业", "城市", "环节", "预测分", "配套的相近整车厂", "本地引荐（已与区内企业往来）"),
                [[i, r[2], r[3], r[1], r[5], r[6], r[7]] for i, r in enumerate(potential, 1)])
    if not view.potential:
        console.print("没有可预测的潜在供应商：需要该链主及其他整车厂的配套关系数据。")
    output.demo_notice(console)


def backtest_cmd(
    file: Path = typer.Option(None, "--file", help="MarkLines 格式 CSV（component, maker, model_year, supplier）"),
    groups: Path = typer.Option(None, "--groups", help="整车厂—集团对照 CSV（maker_name, year, maker_group），可选"),
    use_db: bool = typer.Option(False, "--db", help="使用数据库中的配套关系 (use Relation rows)"),
    split: str = typer.Option("year:2021", "--split", help="year:2021（≤2021 训练）或 random:0.2（随机隐藏 20%）"),
    k: list[int] = typer.Option([10, 20], "--k", help="hit@k 的 k，可重复 (k for hit@k)"),
    seed: int = typer.Option(7, "--seed", help="random 划分的随机种子 (seed)"),
    by_year: bool = typer.Option(False, "--by-year",
                                 help="逐年回测：每个划分年份 Y 训练 ≤Y、检验之后的新关系，权重在更早划分上拟合 (every split year)"),
    years: str = typer.Option("", "--years", help="--by-year 的年份，如 2019-2022 或 2020,2022（默认：数据中每个可用年份）"),
) -> None:
    """回测：隐藏部分已知配套关系，检验网络预测能否找回，并与热门基线对比 (backtest link prediction)."""
    from chainatlas.services.targets import backtest as bt

    if (file is None) == (not use_db):
        _fail("请二选一：--file 某.csv（直接读取文件）或 --db（使用数据库中的配套关系）")
    try:
        parsed = bt.Split.parse(split, seed=seed)
        if file is not None:
            if groups is None and (file.parent / "marklines_maker_group.csv").exists():
                groups = file.parent / "marklines_maker_group.csv"
            data = bt.read_marklines(file, groups)
        else:
            data = _run(bt.relations_from_db)
        if by_year:
            from chainatlas.services.targets import forecast

            chosen = _years(years) if years else forecast.split_years(data)
            if not chosen:
                _fail(f"{data.source}：没有足够按年份划分的配套关系（每个划分前后各需至少 30 对）；请用 --split random:0.2。")
            typer.echo(forecast.by_year_table_zh(data.source, forecast.run_by_year(data, chosen, k=max(k))))
            return
        report = bt.run_backtest(data, parsed, ks=k)
    except bt.BacktestInputError as exc:
        _fail(str(exc))
    typer.echo(report.table_zh())


def _years(text: str) -> list[int]:
    """"2019-2022" or "2020,2022" → years; anything else is a clear error."""
    try:
        out: list[int] = []
        for part in text.replace("，", ",").split(","):
            lo, _, hi = part.strip().partition("-")
            out += list(range(int(lo), int(hi or lo) + 1))
        return sorted(set(out))
    except ValueError:
        _fail(f"无法识别的年份“{text}”；请写 2019-2022 或 2020,2022。")
        return []


def register(app: typer.Typer) -> None:
    app.command("targets", help="目标企业排序与导出、转入项目台账 (ranked targets per node)")(targets_cmd)
    app.command("suppliers", help="链主招商：链主的供应商与潜在供应商 (chain-leader suppliers)")(suppliers_cmd)
    app.command("backtest", help="供应链网络预测回测 (backtest supplier prediction)")(backtest_cmd)
