"""The 载体台账: import the bureau's site list, list and edit sites, hold a site for a project — with history and audit.

Import follows every other import: the header mapper reads Chinese headers (units in brackets understood, 亩 and ㎡
both), each bad row is held back with its file, row, column and what to write instead, and the good rows land in
one transaction. Rows are matched by 载体编号, so importing the same ledger again changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain import sites as dom
from chainatlas.domain.money import MoneyError, parse_money
from chainatlas.ingest.mapping import FieldSpec, field_spec, map_headers
from chainatlas.ingest.reader import ReadError, read_table
from chainatlas.ingest.records import Problem, raw_row
from chainatlas.ingest.values import ValueProblem, clean_text, parse_date
from chainatlas.services.catalog.zones import resolve_zone
from chainatlas.store.db import audit
from chainatlas.store.models import Enterprise, HeldRow, ImportBatch, Park, Project, Site, SiteEvent

SITE_FIELDS: tuple[FieldSpec, ...] = (
    field_spec("code", "载体编号", "载体编号|编号|地块编号|宗地编号|房源编号|序号编码|code|siteid|id"),
    field_spec("name", "载体名称", "载体名称|名称|地块名称|项目名称|楼宇名称|厂房名称|name|sitename"),
    field_spec("kind", "载体类型", "载体类型|类型|类别|载体类别|kind|type"),
    field_spec("park", "所属园区", "所属园区|园区|园区名称|片区|park"),
    field_spec("area", "面积", "面积|用地面积|建筑面积|可供面积|出让面积|土地面积|area|面积亩|面积平方米"),
    field_spec("land_use", "用地性质", "用地性质|土地用途|用途|规划用途|landuse"),
    field_spec("plot_ratio", "容积率", "容积率|plotratio|far"),
    field_spec("land_price", "出让价格(万元/亩)", "出让价格|土地价格|地价|挂牌价|单价|landprice|price"),
    field_spec("rent", "租金(元/㎡·月)", "租金|月租金|租金单价|rent"),
    field_spec("floors", "层数", "层数|楼层|楼层数|floors"),
    field_spec("floor_load", "楼面荷载(kN/㎡)", "楼面荷载|荷载|承重|floorload"),
    field_spec("clear_height", "净高(米)", "净高|层高|檐高|clearheight"),
    field_spec("power", "供电容量(kVA)", "供电容量|电力容量|变压器容量|用电容量|power"),
    field_spec("status", "状态", "状态|载体状态|供应状态|使用状态|status"),
    field_spec("available_from", "可供日期", "可供日期|可交付日期|交付日期|可用日期|availablefrom", "date"),
    field_spec("address", "地址", "地址|坐落|位置|详细地址|address|location"),
    field_spec("lon", "经度", "经度|lon|lng|longitude"),
    field_spec("lat", "纬度", "纬度|lat|latitude"),
    field_spec("project", "占用项目", "占用项目|项目编号|项目|意向项目|project"),
    field_spec("occupant", "入驻企业", "入驻企业|使用企业|企业名称|承租企业|受让企业|occupant|enterprise"),
    field_spec("output", "年产值", "年产值|产值|工业产值|output"),
    field_spec("tax", "年税收", "年税收|税收|纳税额|tax"),
    field_spec("figures_year", "数据年度", "数据年度|年度|统计年度|year"),
    field_spec("notes", "备注", "备注|说明|notes|remark"),
)
LABELS = {f.id: f.label_zh for f in SITE_FIELDS}


class SiteError(ValueError):
    """A site write that cannot be done; the message says why and what to do (Chinese)."""


class SiteNotFound(SiteError):
    pass


class SiteConflict(SiteError):
    """The site is promised or given to someone else: release it first (the bureau would promise one plot twice)."""


@dataclass
class SiteImportResult:
    file: str
    batch_id: int
    rows: int
    inserted: int
    updated: int
    unchanged: int
    held: list[Problem] = field(default_factory=list)


@dataclass
class _Cell:
    header: str
    multiplier: int


def import_sites(session: Session, path: str | Path, *, zone_id: str, by_user: str,
                 mapping: dict | None = None, today: date | None = None) -> SiteImportResult:
    """Import a 载体台账 (CSV in UTF-8 or GBK, XLSX) into a zone, in the caller's transaction.

    Raises ReadError when the file cannot be read at all; a bad row is held back (kept with its problems in
    import_held_rows) while the good rows land.
    """
    path = Path(path)
    today = today or config.today()
    zone = resolve_zone(session, zone_id)
    table = read_table(path, SITE_FIELDS)
    columns = {c.field: c for c in map_headers(table.headers, SITE_FIELDS, mapping).mapped}
    missing = [LABELS[f] for f in ("kind", "area") if f not in columns]
    if missing:
        raise ReadError(f"{path.name}：找不到“{'”“'.join(missing)}”列（表头在第{table.header_row}行）。"
                        "请加上这些列，或用 --mapping 指定列名对照")
    parks = {p.name: p.id for p in session.scalars(select(Park).where(Park.zone_id == zone.id))}
    batch = ImportBatch(kind="sites", file_name=path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                        mapping={c.header: {"field": f, "unit": c.multiplier} for f, c in columns.items()},
                        rows_total=len(table), by_user=by_user)
    session.add(batch)
    session.flush()
    result = SiteImportResult(path.name, batch.id, len(table), 0, 0, 0)
    existing = {s.code: s for s in session.scalars(select(Site).where(Site.zone_id == zone.id))}
    taken_codes: set[str] = set()
    for i in range(len(table)):
        row_no = table.row_numbers[i]
        cells = {f: table.columns[c.index][i] for f, c in columns.items()}
        problems: list[Problem] = []

        def bad(field_id: str, message: str, action: str) -> None:
            problems.append(Problem(path.name, row_no, columns[field_id].header if field_id in columns
                                    else LABELS[field_id], clean_text(cells.get(field_id)), message, action))

        values = _row_values(session, cells, columns, parks, bad)
        code = values.get("code") or ""
        if not code:
            code = f"{zone.id}-{row_no:04d}"
        if code in taken_codes:
            bad("code", "与本文件前面某行的载体编号重复", "每个载体一个编号；删去重复行或改正编号")
        if problems:
            session.add(HeldRow(batch_id=batch.id, row_number=row_no, values=raw_row(table, i),
                                problems=[p.as_dict() for p in problems]))
            result.held.extend(problems)
            continue
        taken_codes.add(code)
        values.update(code=code, zone_id=zone.id, source=f"import:{batch.id}", as_of=today)
        site = existing.get(code)
        if site is None:
            site = Site(status_since=today, **{**_DEFAULTS, **values})
            session.add(site)
            session.flush()
            session.add(SiteEvent(site_id=site.id, on=today, from_status=None, to_status=site.status,
                                  project_id=site.project_id, note=f"导入 {path.name}", by_user=by_user))
            result.inserted += 1
            continue
        changed = {k: v for k, v in values.items() if k not in ("source", "as_of") and getattr(site, k) != v}
        if not changed:
            result.unchanged += 1
            continue
        before = {k: _json(getattr(site, k)) for k in changed}
        if "status" in changed:
            session.add(SiteEvent(site_id=site.id, on=today, from_status=site.status, to_status=values["status"],
                                  project_id=values.get("project_id"), note=f"导入 {path.name}", by_user=by_user))
            site.status_since = today
        for k, v in values.items():
            setattr(site, k, v)
        audit(session, by_user, "site.import_update", "site", site.code, before, {k: _json(v) for k, v in changed.items()})
        result.updated += 1
    batch.rows_inserted, batch.rows_held = result.inserted, len({p.row for p in result.held})
    audit(session, by_user, "site.import", "import_batch", batch.id, None,
          {"file": path.name, "inserted": result.inserted, "updated": result.updated, "held": batch.rows_held})
    return result


_DEFAULTS: dict[str, Any] = {"address": "", "land_use": "", "notes": "", "status": dom.AVAILABLE}


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _row_values(session: Session, cells: dict[str, Any], columns: dict, parks: dict[str, str], bad: Any) -> dict[str, Any]:
    """Parse one row's cells; every problem goes to `bad`, so one pass reports them all."""
    v: dict[str, Any] = {}
    text = {f: clean_text(c) for f, c in cells.items()}
    v["code"] = text.get("code", "")
    try:
        v["kind"] = dom.parse_kind(cells.get("kind"))
    except dom.SiteValueError as exc:
        bad("kind", str(exc), "填写 工业用地、标准厂房 或 写字楼")
        v["kind"] = "land"
    v["name"] = text.get("name") or text.get("address") or v["code"]
    if not v["name"]:
        bad("name", "载体名称为空", "填写地块或楼宇名称")
    header = columns["area"].header
    default_unit = "m2" if ("㎡" in header or "平方米" in header or "平米" in header) else (
        "mu" if "亩" in header or v["kind"] == "land" else "m2")
    try:
        area, unit = dom.parse_area(cells.get("area"), default_unit)
        v["area_m2"] = round(dom.to_m2(area, unit), 2)
    except dom.SiteValueError as exc:
        bad("area", str(exc), "填写面积数字；土地以亩计，厂房和写字楼以平方米计，或在数字后写单位")
    if text.get("park"):
        park = next((pid for name, pid in parks.items() if name == text["park"] or text["park"] in name), None)
        if park is None:
            bad("park", "不是本开发区已登记的园区", f"改为已有园区之一：{'、'.join(parks) or '（先在开发区中登记园区）'}")
        v["park_id"] = park
    try:
        v["land_use"] = dom.parse_land_use(cells.get("land_use"))
    except dom.SiteValueError as exc:
        bad("land_use", str(exc), "按规划条件填写用地性质")
    try:
        v["status"] = dom.parse_status(cells.get("status")) if text.get("status") else dom.AVAILABLE
    except dom.SiteValueError as exc:
        bad("status", str(exc), "填写状态")
    for f, key, conv in (("plot_ratio", "plot_ratio", float), ("floors", "floors", int),
                         ("floor_load", "floor_load_kn_m2", float), ("clear_height", "clear_height_m", float),
                         ("power", "power_kva", int), ("lon", "lon", float), ("lat", "lat", float),
                         ("figures_year", "figures_year", int)):
        if text.get(f):
            try:
                number = float(text[f].replace(",", "").rstrip("米mMkKvVaA层"))
                v[key] = conv(number)
            except ValueError:
                bad(f, "不是数字", f"填写{LABELS[f]}的数字，或留空")
    if "lon" in v and not 73 <= v["lon"] <= 136 or "lat" in v and not 3 <= v["lat"] <= 54:
        bad("lon" if "lon" in v else "lat", "经纬度不在中国范围内", "填写 WGS-84 经度(73–136)和纬度(3–54)，或留空")
    if text.get("available_from"):
        try:
            v["available_from"] = parse_date(cells["available_from"])
        except ValueProblem as exc:
            bad("available_from", str(exc), "填写日期，如 2026-03-01")
    if text.get("land_price"):
        mult = columns["land_price"].multiplier if columns["land_price"].multiplier > 1 else 10_000
        try:
            v["land_price_yuan_per_mu"] = parse_money(cells["land_price"], mult).amount_yuan
        except MoneyError as exc:
            bad("land_price", str(exc), "填写每亩价格（万元/亩）")
    if text.get("rent"):
        try:
            v["rent_fen_per_m2_month"] = round(float(text["rent"].replace("元", "").split("/")[0]) * 100)
        except ValueError:
            bad("rent", "不是数字", "填写每平方米每月租金（元），如 18.5")
    for f, key in (("output", "output_yuan"), ("tax", "tax_yuan")):
        if text.get(f):
            mult = columns[f].multiplier if columns[f].multiplier > 1 else 10_000
            try:
                v[key] = parse_money(cells[f], mult).amount_yuan
            except MoneyError as exc:
                bad(f, str(exc), f"填写{LABELS[f]}（默认单位万元，或在表头写明单位）")
    if text.get("project"):
        project = session.scalar(select(Project).where(Project.code == text["project"]))
        if project is None:
            bad("project", "台账中没有这个项目编号", "填写项目台账中的项目编号，或留空")
        else:
            v["project_id"] = project.id
    if text.get("occupant"):
        firm = session.scalar(select(Enterprise).where(Enterprise.name == text["occupant"],
                                                       Enterprise.merged_into_id.is_(None)))
        v["enterprise_id"] = firm.id if firm else None
        if firm is None:
            v["notes"] = (text.get("notes", "") + f"（入驻企业：{text['occupant']}，未在企业库中找到）").strip()
    if "notes" not in v:
        v["notes"] = text.get("notes", "")
    return v


# ---------------------------------------------------------------- list, edit, hold


def list_sites(session: Session, zone_id: str, *, kind: str | None = None, status: str | None = None,
               park_id: str | None = None) -> list[Site]:
    q = select(Site).where(Site.zone_id == zone_id)
    if kind:
        q = q.where(Site.kind == kind)
    if status:
        q = q.where(Site.status == status)
    if park_id:
        q = q.where(Site.park_id == park_id)
    return list(session.scalars(q.order_by(Site.park_id, Site.kind, Site.code)))


def get_site(session: Session, code: str) -> Site:
    site = session.scalar(select(Site).where(Site.code == code))
    if site is None:
        raise SiteNotFound(f"没有编号为“{code}”的载体")
    return site


EDITABLE = ("name", "address", "park_id", "land_use", "plot_ratio", "land_price_yuan_per_mu", "floors",
            "floor_load_kn_m2", "clear_height_m", "power_kva", "rent_fen_per_m2_month", "available_from",
            "lon", "lat", "area_m2", "output_yuan", "tax_yuan", "figures_year", "notes")


def update_site(session: Session, code: str, *, by_user: str, **changes: Any) -> Site:
    site = get_site(session, code)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise SiteError(f"不能在此修改：{'、'.join(sorted(unknown))}（状态请用“占用/释放/变更状态”）")
    if "area_m2" in changes and not (changes["area_m2"] and changes["area_m2"] > 0):
        raise SiteError("面积应大于 0")
    if changes.get("park_id") and session.get(Park, changes["park_id"]) is None:
        raise SiteError(f"园区“{changes['park_id']}”不存在")
    before = {k: _json(getattr(site, k)) for k in changes}
    for k, v in changes.items():
        setattr(site, k, v)
    audit(session, by_user, "site.update", "site", site.code, before, {k: _json(v) for k, v in changes.items()})
    return site


def set_status(session: Session, code: str, status: str, *, by_user: str, project_code: str | None = None,
               note: str = "", on: date | None = None) -> Site:
    """Move a site to a status; 洽谈中 needs the project it is held for, and a site held for one project cannot be
    taken by another before it is released (the bureau would promise one plot twice)."""
    site = get_site(session, code)
    status = dom.parse_status(status)
    project = None
    if project_code:
        project = session.scalar(select(Project).where(Project.code == project_code))
        if project is None:
            raise SiteError(f"项目台账中没有项目“{project_code}”")
    if status == dom.NEGOTIATING and project is None:
        raise SiteError("“洽谈中”需注明为哪个项目预留（项目编号）")
    if site.project_id and project is not None and site.project_id != project.id and status != dom.AVAILABLE:
        holder = session.get(Project, site.project_id)
        raise SiteConflict(f"载体“{site.name}”已为项目“{holder.name if holder else site.project_id}”"
                        f"（{site.status}）占用，请先释放再分配给其他项目")
    if site.status in dom.TAKEN and status == dom.NEGOTIATING:
        raise SiteConflict(f"载体“{site.name}”已{site.status}，不能再为项目预留")
    if status == site.status and (project is None or project.id == site.project_id):
        return site
    before = {"status": site.status, "project_id": site.project_id}
    on = on or config.today()
    site.status, site.status_since = status, on
    if status == dom.AVAILABLE:
        site.project_id = None
    elif project is not None:
        site.project_id = project.id
    session.add(SiteEvent(site_id=site.id, on=on, from_status=before["status"], to_status=status,
                          project_id=site.project_id or (project.id if project else None), note=note, by_user=by_user))
    audit(session, by_user, "site.status", "site", site.code, before,
          {"status": status, "project_id": site.project_id, "note": note})
    return site


def hold_site(session: Session, code: str, project_code: str, *, by_user: str, note: str = "") -> Site:
    """Reserve a site for a project (状态 → 洽谈中): the bureau's promise, recorded with who and when."""
    site = get_site(session, code)
    if site.status != dom.AVAILABLE and site.project_id is None:
        raise SiteConflict(f"载体“{site.name}”当前为“{site.status}”，只能预留可供的载体")
    return set_status(session, code, dom.NEGOTIATING, by_user=by_user, project_code=project_code,
                      note=note or f"为项目 {project_code} 预留")


def release_site(session: Session, code: str, *, by_user: str, note: str = "") -> Site:
    return set_status(session, code, dom.AVAILABLE, by_user=by_user, note=note or "释放")


def sites_of_project(session: Session, project_id: int) -> list[Site]:
    return list(session.scalars(select(Site).where(Site.project_id == project_id).order_by(Site.code)))
