"""`chainatlas zone add|list|show|remove`: development zones as data (a zone file, or a name and division codes)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from chainatlas.cli import output
from chainatlas.store import db

zone_app = typer.Typer(help="开发区 (zones): 新建、查看、删除；按行政区划代码、园区和地址关键词定义。", no_args_is_help=True)
console = output.console()


def _run(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """One transaction; a definition users can fix prints Chinese, never a traceback."""
    from chainatlas.services.catalog import ZoneError, ZoneNotFound

    db.migrate()
    try:
        with db.session_scope() as session:
            return fn(session, *args, **kwargs)
    except (ZoneError, ZoneNotFound) as exc:
        console.print(f"[red]错误：[/]{exc}", highlight=False)
        raise typer.Exit(1) from exc


def _split(values: list[str]) -> list[str]:
    return [v.strip() for text in values for v in text.replace("，", ",").split(",") if v.strip()]


@zone_app.command("add")
def add(
    file: Path = typer.Argument(None, help="开发区文件 YAML（id、name、members、parks、address_keywords…）(zone file)"),
    name: str = typer.Option(None, "--name", help="开发区名称，如 深圳市 (zone name)"),
    division: list[str] = typer.Option([], "--division", help="行政区划代码，逗号分隔：省/市/区县 6 位或街道 9 位 (division codes)"),
    zone_id: str = typer.Option(None, "--id", help="开发区 id（英文），默认 zone-<第一个代码> (zone id)"),
    park: list[str] = typer.Option([], "--park", help="园区：名称 或 名称:关键词1+关键词2，可重复 (park)"),
    address_word: list[str] = typer.Option([], "--address-word", help="把企业归入本区的地址关键词，逗号分隔 (address words)"),
    alias: list[str] = typer.Option([], "--alias", help="别名，逗号分隔 (other names)"),
    user: str = typer.Option("cli", "--user", help="操作人 (acting user)"),
) -> None:
    """新建或修改开发区 (add or change a zone)；保存后按地址与区划重新计算库内每家企业是否在区内。"""
    from chainatlas.services.catalog import ZoneError, read_zone_file, save_zone, zone_firm_count, zone_from_divisions

    def run(session):  # type: ignore[no-untyped-def]
        if file is not None:
            definition = read_zone_file(file)
        elif name:
            definition = zone_from_divisions(name, _split(division), zone_id=zone_id, parks=park,
                                             address_keywords=_split(address_word), aliases=_split(alias))
        else:
            raise ZoneError("请给出开发区文件，或用 --name 名称 --division 区划代码 定义开发区")
        zone = save_zone(session, definition, by_user=user)
        return zone.id, zone.name, zone_firm_count(session, zone.id)

    zid, zname, firms = _run(run)
    console.print(f"✓ 开发区“{zname}”（{zid}）已保存；库内企业中 {firms:,} 家在区内。", highlight=False)


@zone_app.command("list")
def list_cmd() -> None:
    """列出开发区及区内企业数 (list zones with their firm counts)."""
    from chainatlas.services.catalog import list_zones

    rows = _run(lambda s: [(z.id, z.name, "、".join(m.name for m in z.members), len(z.parks), n)
                           for z, n in list_zones(s)])
    if not rows:
        console.print("还没有开发区。新建：chainatlas zone add --name 名称 --division 区划代码")
        return
    t = Table(title="开发区 (zones)")
    for h in ("id", "名称", "区划", "园区", "区内企业"):
        t.add_column(h)
    for zid, name, members, parks, firms in rows:
        t.add_row(zid, name, members, str(parks), f"{firms:,}")
    console.print(t)


@zone_app.command("show")
def show(
    zone: str = typer.Argument(..., help="开发区 id 或名称 (zone id or name)"),
    format: str = typer.Option("table", "--format", help="table 或 json"),
) -> None:
    """查看开发区的区划、园区、地址关键词和区内企业数 (show a zone)."""
    from chainatlas.services.catalog import resolve_zone, zone_dict, zone_firm_count

    data = _run(lambda s: zone_dict(resolve_zone(s, zone)) | {"firms": zone_firm_count(s, resolve_zone(s, zone).id)})
    if format == "json":
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console.print(f"[bold]{data['name']}[/]（{data['id']}）区内企业 {data['firms']:,} 家；来源：{data['source']}",
                  highlight=False)
    for m in data["members"]:
        console.print(f"  区划 {m['code']} {m['name']}（{m['kind']}）", highlight=False)
    for p in data["parks"]:
        console.print(f"  园区 {p['name']}：{'、'.join(p['keywords'])}", highlight=False)
    if data["address_keywords"]:
        console.print(f"  地址关键词：{'、'.join(data['address_keywords'])}", highlight=False)
    if data["aliases"]:
        console.print(f"  别名：{'、'.join(data['aliases'])}", highlight=False)


@zone_app.command("remove")
def remove(
    zone: str = typer.Argument(..., help="开发区 id 或名称 (zone id or name)"),
    user: str = typer.Option("cli", "--user", help="操作人 (acting user)"),
) -> None:
    """删除开发区 (remove a zone)；企业保留在库中，只是不再属于该区。"""
    from chainatlas.services.catalog import remove_zone

    name = _run(remove_zone, zone, by_user=user)
    console.print(f"✓ 已删除开发区“{name}”", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(zone_app, name="zone")
