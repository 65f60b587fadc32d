"""The 招商项目台账 as an Excel workbook: export it, import it back, without losing a field.

Sheets: 项目台账 (one row per project, Chinese columns in the order bureaus keep them), 阶段变更记录
(every stage change), 走访记录 (visits and contacts), 月度汇总 (the month-by-month summary against the
year's targets; derived, so import ignores it).

Import checks every row first and writes nothing if any cell is wrong; each problem names the file, sheet,
row, column and value and says what to do. Rows are matched by 项目编号, so importing the same file twice
changes nothing the second time; history rows already present are not added again.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from chainatlas import config
from chainatlas.domain.cells import formula_like
from chainatlas.domain.chain import Chain, ChainFileError, load_chain
from chainatlas.domain.money import WAN, YI, yi
from chainatlas.domain.stages import (
    ALL_STAGES,
    DATE_FIELD,
    DROP,
    HOLD,
    LADDER,
    PREREQUISITE,
    StageError,
    normalize_stage,
    rank,
)
from chainatlas.ingest.mapping import ColumnMap, FieldSpec, map_headers
from chainatlas.ingest.mapping import field_spec  # the mapper's own normaliser for header names
from chainatlas.ingest.reader import EXCEL_SUFFIXES, ReadError, Table, read_table
from chainatlas.ingest.xlsx import sheet_names
from chainatlas.ingest.values import ValueProblem, clean_text, parse_amount_yuan, parse_bool, parse_date, split_list
from chainatlas.services.pipeline.kpi import kpi_report
from chainatlas.services.pipeline.projects import (
    ACTIVITY_KINDS,
    FIELD_LABELS,
    PROJECT_TYPES,
    PURPOSES,
    next_code,
    snapshot,
)
from chainatlas.services.catalog.zones import ZoneNotFound, resolve_zone
from chainatlas.store.db import audit
from chainatlas.store.models import Enterprise, ImportBatch, Park, Project, ProjectActivity, StageChange, Zone

MAIN_SHEET, HISTORY_SHEET, ACTIVITY_SHEET, SUMMARY_SHEET = "项目台账", "阶段变更记录", "走访记录", "月度汇总"


# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    header: str  # as exported
    field: str  # Project attribute, or a pseudo-field resolved on import (investor_uscc, row_no)
    kind: str  # text / int / float / yi / wan_usd / date / datetime / bool / stage / nodes / park / zone / chain
    aliases: tuple[str, ...] = ()  # other headers real ledgers use for the same column
    width: int = 12


def _label(f: str, unit: str = "") -> str:
    return FIELD_LABELS[f] + (f"（{unit}）" if unit else "")


COLUMNS: tuple[Column, ...] = (
    Column("序号", "row_no", "int", width=6),
    Column(_label("code"), "code", "text", ("编号", "区级编码", "项目代码"), 14),
    Column(_label("name"), "name", "text", (), 30),
    Column(_label("investor_name"), "investor_name", "text", ("投资主体", "投资企业", "签约主体"), 28),
    Column("投资方统一社会信用代码", "investor_uscc", "text", ("统一社会信用代码", "证照号码"), 20),
    Column(_label("chain_id"), "chain_id", "chain", ("所属产业链",), 14),
    Column(_label("node_ids"), "node_ids", "nodes", ("产业链节点", "所属环节", "细分领域"), 20),
    Column(_label("project_type"), "project_type", "text", ("建设性质",)),
    Column(_label("purpose"), "purpose", "text", ("延链补链强链",)),
    Column(_label("investment_yuan", "亿元"), "investment_yuan", "yi", ("计划投资", "投资额", "总投资", "签约金额")),
    Column(_label("fixed_investment_yuan", "亿元"), "fixed_investment_yuan", "yi", ("固投金额", "固定资产投资额")),
    Column(_label("funds_in_place_yuan", "亿元"), "funds_in_place_yuan", "yi", ("到位资金", "到资金额")),
    Column(_label("expected_output_yuan", "亿元"), "expected_output_yuan", "yi", ("预计产值",)),
    Column(_label("expected_tax_yuan", "亿元"), "expected_tax_yuan", "yi", ("预计税收",)),
    Column(_label("jobs", "人"), "jobs", "int", ("用工人数", "就业")),
    Column(_label("land_mu", "亩"), "land_mu", "float", ("需用土地", "用地面积", "用地规模")),
    Column(_label("park_id"), "park_id", "park", ("片区", "承接园区", "负责单位"), 16),
    Column(_label("officer"), "officer", "text", ("区投促局责任人", "项目负责人", "招商责任人")),
    Column(_label("leader"), "leader", "text", ("责任领导",)),
    Column(_label("source_kind"), "source_kind", "text", ("招商方式", "来源")),
    Column(_label("source_detail"), "source_detail", "text", (), 20),
    Column(_label("foreign_invested"), "foreign_invested", "bool", ("是否FDI", "外资项目")),
    Column(_label("fdi_usd", "万美元"), "fdi_usd", "wan_usd", ("FDI",)),
    Column(_label("stage"), "stage", "stage", ("项目阶段", "进展阶段"), 8),
    Column(_label("stage_changed_on"), "stage_changed_on", "date", ()),
    Column(_label("signed_on"), "signed_on", "date", ("协议签订时间", "签约时间")),
    Column(_label("registered_on"), "registered_on", "date", ("注册时间",)),
    Column(_label("started_on"), "started_on", "date", ("开工时间",)),
    Column(_label("producing_on"), "producing_on", "date", ("投产时间",)),
    Column(_label("hold_reason"), "hold_reason", "text", ("退库原因", "搁置原因"), 20),
    Column(_label("next_action"), "next_action", "text", ("下一步工作计划", "下一步"), 24),
    Column(_label("next_action_on"), "next_action_on", "date", ("计划完成时间",)),
    Column(_label("summary"), "summary", "text", ("项目内容", "项目概况"), 30),
    Column(_label("notes"), "notes", "text", ("进度备注", "备注", "进展情况"), 30),
    Column(_label("source"), "source", "text", ()),
    Column(_label("zone_id"), "zone_id", "zone", ("开发区",), 12),
    Column(_label("created_at"), "created_at", "datetime", ("登记时间",), 26),
)


def _specs(columns: tuple[tuple[str, str, tuple[str, ...]], ...]) -> tuple[FieldSpec, ...]:
    return tuple(field_spec(f, header, "|".join((header, *aliases))) for f, header, aliases in columns)


# The enterprise importer's reader finds the header row (title rows above it, merged cells, GBK CSV) by scoring
# rows against these names; its mapper reads each column's unit (亿元/万元/万美元) from the header.
LEDGER_FIELDS = _specs(tuple((c.field, c.header, c.aliases) for c in COLUMNS))
COLUMN_OF = {c.field: c for c in COLUMNS}
HISTORY_FIELDS = _specs((("code", "项目编号", ()), ("name", "项目名称", ()), ("from_stage", "原阶段", ()),
                         ("to_stage", "新阶段", ()), ("changed_on", "变更日期", ()), ("reason", "原因", ()),
                         ("by_user", "操作人", ()), ("at", "记录时间", ())))
ACTIVITY_FIELDS = _specs((("code", "项目编号", ()), ("name", "项目名称", ()), ("on", "日期", ()),
                          ("kind", "方式", ()), ("content", "内容", ()), ("by_user", "记录人", ())))


# ---------------------------------------------------------------- export


def export_ledger(
    session: Session,
    path: str | Path,
    zone_id: str,
    *,
    chain_id: str,
    year: int | None = None,
    as_of: date | None = None,
) -> int:
    """Write the zone's ledger of the chain's projects to `path` (.xlsx); returns the number of projects written."""
    zone = resolve_zone(session, zone_id)
    as_of = as_of or config.today()
    year = year or as_of.year
    q = select(Project).where(Project.zone_id == zone.id).order_by(Project.code)
    q = q.where(Project.chain_id == chain_id)
    projects = list(session.scalars(q.options(selectinload(Project.stage_changes), selectinload(Project.activities))))
    parks = {p.id: p.name for p in zone.parks}
    investors = _investor_usccs(session, projects)
    node_names = {n.id: n.name_zh for n in load_chain(chain_id).nodes.values()}
    wb = Workbook()
    ws = wb.active
    ws.title = MAIN_SHEET
    counts = {s: sum(1 for p in projects if p.stage == s) for s in ALL_STAGES}
    demo = any(p.source == "demo" for p in projects)
    _title(ws, f"{zone.name}招商项目台账" + ("（含演示数据）" if demo else ""), len(COLUMNS),
           f"截至{as_of.isoformat()}，在库项目{len(projects)}个：" + "，".join(f"{s}{n}个" for s, n in counts.items() if n)
           + f"；导出时间{config.now():%Y-%m-%d %H:%M}")
    _header(ws, 3, [c.header for c in COLUMNS], [c.width for c in COLUMNS])
    formats = [(j, "0.00" if c.kind in ("yi", "wan_usd") else "yyyy-mm-dd")
               for j, c in enumerate(COLUMNS, start=1) if c.kind in ("yi", "wan_usd", "date")]
    for i, p in enumerate(projects, start=1):
        _append(ws, 3 + i, [_cell_out(c, p, i, zone.name, parks, investors, node_names) for c in COLUMNS])
        for j, fmt in formats:  # row 3 is the header; ws.max_row would rescan every cell (quadratic)
            ws.cell(3 + i, j).number_format = fmt
    ws.freeze_panes = "D4"

    hs = wb.create_sheet(HISTORY_SHEET)
    _header(hs, 1, [f.label_zh for f in HISTORY_FIELDS], [14, 30, 8, 8, 12, 30, 12, 26])
    row = 1
    for p in projects:
        for c in p.stage_changes:
            row += 1
            _append(hs, row, [p.code, p.name, c.from_stage or "", c.to_stage, c.changed_on, c.reason, c.by_user,
                              _dt_out(c.at)])
            hs.cell(row, 5).number_format = "yyyy-mm-dd"
    acts = wb.create_sheet(ACTIVITY_SHEET)
    _header(acts, 1, [f.label_zh for f in ACTIVITY_FIELDS], [14, 30, 12, 8, 50, 12])
    row = 1
    for p in projects:
        for a in p.activities:
            row += 1
            _append(acts, row, [p.code, p.name, a.on, a.kind, a.content, a.by_user])
            acts.cell(row, 3).number_format = "yyyy-mm-dd"
    _monthly_summary(wb.create_sheet(SUMMARY_SHEET), session, zone, year, as_of, chain_id)
    wb.save(str(path))
    return len(projects)


def _append(ws: Any, row: int, values: list[Any]) -> None:
    """Append row number `row` with its text kept as text: openpyxl makes any string starting with "=" a formula,
    so formula-like text (domain/cells.py) is set back to a string cell with Excel's quote prefix."""
    ws.append(values)
    for j, value in enumerate(values, start=1):
        if formula_like(value):
            cell = ws.cell(row, j)
            cell.data_type = "s"
            cell.quotePrefix = True


def _title(ws: Any, title: str, width: int, subtitle: str) -> None:
    ws.append([title])
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=min(width, 12))
    ws.append([subtitle])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=min(width, 12))


def _header(ws: Any, row: int, headers: list[str], widths: list[int]) -> None:
    for j, (h, w) in enumerate(zip(headers, widths), start=1):
        cell = ws.cell(row, j, h)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[cell.column_letter].width = w


def _investor_usccs(session: Session, projects: list[Project]) -> dict[int, str]:
    ids = {p.investor_id for p in projects if p.investor_id}
    if not ids:
        return {}
    return {e.id: e.uscc or "" for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(ids)))}


def _dt_out(value: datetime | None) -> str:
    # Text, not an Excel date: Excel has no time zones and would drop the microseconds.
    if value is None:
        return ""
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()


def _cell_out(c: Column, p: Project, i: int, zone_name: str, parks: dict[str, str], investors: dict[int, str],
              node_names: dict[str, str]) -> Any:
    if c.field == "row_no":
        return i
    if c.field == "investor_uscc":
        return investors.get(p.investor_id or 0, "")
    value = getattr(p, c.field)
    if c.kind == "yi":
        return None if value is None else value / YI  # full precision in the cell; the format shows 2 places
    if c.kind == "wan_usd":
        return None if value is None else value / WAN
    if c.kind == "bool":
        return "是" if value else "否"
    if c.kind == "nodes":
        return "、".join(node_names.get(n, n) for n in value or [])
    if c.kind == "chain":
        return load_chain(value).name_zh if value else ""
    if c.kind == "park":
        return parks.get(value, value or "")
    if c.kind == "zone":
        return zone_name
    if c.kind == "datetime":
        return _dt_out(value)
    return value


def _monthly_summary(ws: Any, session: Session, zone: Zone, year: int, as_of: date, chain_id: str) -> None:
    """月度汇总: each month's new signings, money, starts and production, then totals against the targets."""
    report = kpi_report(session, zone.id, year, as_of=as_of, chain_id=chain_id)
    heads = ["月份"] + [f"{r.label_zh}（{'亿元' if r.unit == '元' else '个'}）" for r in report.rows]
    _title(ws, f"{zone.name}{year}年招商项目月度汇总", len(heads),
           f"截至{as_of.isoformat()}；已过{report.months_elapsed}个月；签约按签约日期、开工按开工日期、投产按投产日期计，终止项目不计")
    _header(ws, 3, heads, [10] + [16] * len(report.rows))

    def show(unit: str, v: int | None) -> Any:
        return yi(v) if unit == "元" else v

    cumulative = [0] * len(report.rows)
    for m in range(12):
        line: list[Any] = [f"{m + 1}月"]
        for k, r in enumerate(report.rows):
            cumulative[k] += r.monthly[m]
            line.append(show(r.unit, r.monthly[m]))
        ws.append(line)
    ws.append(["合计"] + [show(r.unit, r.actual) for r in report.rows])
    ws.append(["年度目标"] + [show(r.unit, r.target) for r in report.rows])
    ws.append(["完成率（%）"] + [r.pct for r in report.rows])
    ws.append(["序时目标"] + [show(r.unit, r.time_target) for r in report.rows])
    ws.append(["序时进度"] + [None if r.ahead is None else ("超时序" if r.ahead else "滞后") for r in report.rows])
    ws.append(["年底预计"] + [show(r.unit, r.projection) for r in report.rows])


# ---------------------------------------------------------------- import


@dataclass
class LedgerProblem:
    file: str
    sheet: str
    row: int
    column: str
    value: str
    message: str
    action: str

    def __str__(self) -> str:
        if not self.row:  # the file or a whole sheet: the message says it all
            return f"{self.file} {self.sheet}：{self.message}。{self.action}".replace(" ：", "：").rstrip("。") + "。"
        return (f"{self.file} 工作表“{self.sheet}”第{self.row}行“{self.column}”列：值“{self.value}”{self.message}。"
                f"{self.action}")


class LedgerImportError(ValueError):
    def __init__(self, problems: list[LedgerProblem]):
        self.problems = problems
        head = f"台账有{len(problems)}处问题，未导入任何数据（改正后重新导入即可）："
        super().__init__("\n".join([head] + [str(p) for p in problems[:50]]))


@dataclass
class LedgerImportResult:
    file: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    stage_changes_added: int
    activities_added: int
    batch_id: int
    codes: list[str] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    values: dict[str, Any]
    raw: dict[str, str]


class ProblemReader:
    """Collects every problem in a file instead of stopping at the first."""

    def __init__(self, file: str, problems: list[LedgerProblem]):
        self.file = file
        self.problems = problems

    def problem(self, sheet: str, row: int, column: str, value: object, message: str, action: str) -> None:
        self.problems.append(LedgerProblem(self.file, sheet, row, column, clean_text(value), message, action))


def _sheet_names(path: Path) -> list[str]:
    return sheet_names(path) if path.suffix.lower() in EXCEL_SUFFIXES else []


def _read(path: Path, fields: tuple[FieldSpec, ...], sheet: str | None) -> tuple[Table, dict[str, ColumnMap]]:
    table = read_table(path, fields, sheet=sheet)
    return table, {c.field: c for c in map_headers(table.headers, fields).mapped}


def import_ledger(
    session: Session,
    path: str | Path,
    *,
    by_user: str,
    zone_id: str | None = None,
    chain_id: str,
    today: date | None = None,
) -> LedgerImportResult:
    """Import a ledger (.xlsx, or the main sheet as .csv) in the caller's transaction.

    Raises LedgerImportError, having written nothing, when any cell is wrong.
    """
    path = Path(path)
    problems: list[LedgerProblem] = []
    reader = ProblemReader(path.name, problems)
    sheets = _sheet_names(path)
    try:
        table, columns = _read(path, LEDGER_FIELDS, MAIN_SHEET if MAIN_SHEET in sheets else None)
    except ReadError as exc:
        raise LedgerImportError([LedgerProblem(path.name, "", 0, "", "", str(exc), "")]) from None
    default_zone = resolve_zone(session, zone_id) if zone_id else None
    ctx = RowContext(session, default_zone, chain_id, today or config.today())
    rows = _read_main(table, columns, reader, ctx)
    codes = {r.values["code"] for r in rows if r.values.get("code")}
    history = _read_history(path, sheets, reader, codes, session)
    activities = _read_activities(path, sheets, reader, codes, session)
    _check_history_matches(rows, history, reader, table.sheet)
    if problems:
        raise LedgerImportError(problems)
    return _write(session, path, rows, history, activities, by_user, ctx)


@dataclass
class RowContext:
    session: Session
    default_zone: Zone | None
    chain_id: str
    today: date
    zones: dict[str, Zone] = field(default_factory=dict)
    chains: dict[str, Chain] = field(default_factory=dict)

    def chain(self, chain_id: str) -> Chain:
        # One lookup per file, not per cell: load_chain checks the file on disk each time it is called.
        if chain_id not in self.chains:
            self.chains[chain_id] = load_chain(chain_id)
        return self.chains[chain_id]


def _read_main(table: Table, columns: dict[str, ColumnMap], reader: ProblemReader, ctx: RowContext) -> list[_Row]:
    sheet = table.sheet or table.path.name
    for needed in ("name", "stage"):
        if needed not in columns:
            reader.problem(sheet, table.header_row, FIELD_LABELS[needed], "", "表头缺少此列",
                           f"请加上“{FIELD_LABELS[needed]}”列")
    for cm in columns.values():
        kind = COLUMN_OF[cm.field].kind
        header = unicodedata.normalize("NFKC", cm.header)
        # A bare number under "投资金额" could be 元, 万元 or 亿元: guessing would be off by 10^4, so ask.
        if (kind == "yi" and "元" not in header) or (kind == "wan_usd" and "美元" not in header):
            unit = "亿元" if kind == "yi" else "万美元"
            reader.problem(sheet, table.header_row, cm.header, cm.header, "没有注明金额单位",
                           f"请在表头注明单位，如“{COLUMN_OF[cm.field].header}”（{unit}）")
    out: list[_Row] = []
    seen: dict[str, int] = {}
    for i, r in enumerate(table.row_numbers):
        cells = table.row(i)
        values: dict[str, Any] = {}
        raw: dict[str, str] = {}
        for f, cm in columns.items():
            cell = cells[cm.index]
            raw[f] = clean_text(cell)
            try:
                values[f] = parse_cell(COLUMN_OF[f], cell, cm.multiplier, ctx, values)
            except ValueProblem as exc:
                reader.problem(sheet, r, cm.header, cell, f"：{exc.message}", exc.action)
        check_row(sheet, r, values, raw, {f: cm.header for f, cm in columns.items()}, reader, ctx, seen)
        out.append(_Row(r, values, raw))
    return out


def _money(value: object, mult: int) -> int | None:
    if clean_text(value) == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # repr keeps every digit Excel stored; a float through format(…, "f") would be cut to 6 decimals.
        amount = Decimal(repr(value)) * mult
        if amount < 0:
            raise ValueProblem(f"“{value}”是负数", "金额不能为负，请改正或留空")
        return int(amount.to_integral_value())
    return parse_amount_yuan(value, mult)


def parse_cell(col: Column, cell: object, mult: int, ctx: RowContext, values: dict[str, Any]) -> Any:
    text = clean_text(cell)
    kind = col.kind
    if kind in ("yi", "wan_usd"):
        return _money(cell, mult)
    if kind == "int":
        if text == "":
            return None
        try:
            number = Decimal(repr(cell)) if isinstance(cell, (int, float)) else Decimal(text.replace(",", ""))
        except ArithmeticError:
            raise ValueProblem(f"“{text}”不是整数", "请填写整数，或留空") from None
        if number < 0 or number != number.to_integral_value():
            raise ValueProblem(f"“{text}”不是非负整数", "请填写非负整数，或留空")
        return int(number)
    if kind == "float":
        if text == "":
            return None
        try:
            number = float(cell) if isinstance(cell, (int, float)) else float(text.replace(",", ""))
        except ValueError:
            raise ValueProblem(f"“{text}”不是数字", "请填写数字（单位见表头），或留空") from None
        if number < 0:
            raise ValueProblem(f"“{text}”是负数", "请填写非负数，或留空")
        return number
    if kind == "date":
        return parse_date(cell) if text else None
    if kind == "datetime":
        if not text:
            return None
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            d = parse_date(cell)
            return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
    if kind == "bool":
        return parse_bool(cell)
    if kind == "stage":
        if not text:
            raise ValueProblem("为空", f"请填写阶段：{'、'.join(ALL_STAGES)}")
        try:
            return normalize_stage(text)
        except StageError as exc:
            raise ValueProblem(str(exc), f"请填写其中之一：{'、'.join(ALL_STAGES)}") from None
    if kind == "chain":
        return _chain_id(text or ctx.chain_id, ctx)
    if kind == "nodes":
        chain = ctx.chain(values.get("chain_id") or ctx.chain_id)
        ids = []
        for item in split_list(cell):
            node = item if item in chain.nodes else next((n.id for n in chain.nodes.values() if n.name_zh == item), None)
            if node is None:
                raise ValueProblem(f"“{item}”不是产业链“{chain.name_zh}”的环节",
                                   "请填写环节名称（如 动力电芯），多个用“、”分隔；chainatlas chain show 可查看全部环节")
            ids.append(node)
        return list(dict.fromkeys(ids))
    if kind == "zone":
        if not text:
            return ctx.default_zone.id if ctx.default_zone else None
        if text not in ctx.zones:
            try:
                ctx.zones[text] = resolve_zone(ctx.session, text)
            except ZoneNotFound as exc:
                raise ValueProblem(str(exc), "请填写开发区名称，如 武汉经开区") from None
        return ctx.zones[text].id
    if kind == "park":
        return text  # resolved against the row's zone in _check_row
    return text


def _chain_id(text: str, ctx: RowContext) -> str:
    default = ctx.chain(ctx.chain_id)
    if text in (default.id, default.name_zh):
        return default.id
    try:
        return ctx.chain(text).id
    except ChainFileError:
        raise ValueProblem(f"“{text}”不是已知的产业链", f"请填写产业链名称，如“{default.name_zh}”") from None


def check_row(sheet: str, r: int, v: dict[str, Any], raw: dict[str, str], headers: dict[str, str], reader: ProblemReader,
               ctx: RowContext, seen: dict[str, int]) -> None:
    def bad(f: str, message: str, action: str) -> None:
        reader.problem(sheet, r, headers.get(f, FIELD_LABELS.get(f, f)), raw.get(f, ""), message, action)

    code = v.get("code") or ""
    if code:
        if len(code) > 20:
            bad("code", "超过20个字符", "项目编号请用区级编码（日期8位+序号3位），或留空由系统生成")
        elif code in seen:
            bad("code", f"与第{seen[code]}行重复", "每个项目编号只能出现一次，请删除重复行或改正编号")
        seen[code] = r
    if "name" in v and not v["name"]:
        bad("name", "为空", "请填写项目名称")
    if "project_type" in v and not v["project_type"]:
        del v["project_type"]  # blank: a new project is 新建, an existing one keeps its type
    elif v.get("project_type", "新建") not in PROJECT_TYPES:
        bad("project_type", "不是有效的项目类型", f"请填写：{'、'.join(PROJECT_TYPES)}")
    if v.get("purpose", "") not in PURPOSES:
        bad("purpose", "不是有效的招商目的", "请填写 补链、强链、延链 或留空")
    zone_id = v.get("zone_id") or (ctx.default_zone.id if ctx.default_zone else None)
    if zone_id is None:
        bad("zone_id", "为空", "请填写所属开发区，或导入时用 --zone 指定")
    v["zone_id"] = zone_id
    park = v.get("park_id")
    if park and zone_id:
        found = ctx.session.scalar(select(Park).where(Park.zone_id == zone_id, (Park.name == park) | (Park.id == park)))
        if found is None:
            names = "、".join(p.name for p in ctx.session.scalars(select(Park).where(Park.zone_id == zone_id)))
            bad("park_id", "不是本开发区的园区", f"请填写园区名称：{names or '（本开发区未登记园区）'}")
        else:
            v["park_id"] = found.id
    elif park == "":
        v["park_id"] = None
    stage = v.get("stage")
    if stage in LADDER:
        for s in LADDER[: rank(stage) + 1]:
            f = DATE_FIELD.get(s)
            # Earlier steps may be skipped (a local firm expanding needs no new registration), prerequisites not.
            if f and v.get(f) is None and (s == stage or s in PREREQUISITE.values()):
                bad(f, f"为空，但阶段为“{stage}”", f"请填写{FIELD_LABELS[f]}，或把阶段改为实际所处阶段")
        for s in LADDER[rank(stage) + 1 :]:
            f = DATE_FIELD.get(s)
            if f and v.get(f) is not None:
                bad(f, f"已填写，但阶段只到“{stage}”", f"请核对阶段（应为“{s}”或之后），或清空{FIELD_LABELS[f]}")
    if stage in (HOLD, DROP) and not v.get("hold_reason"):
        bad("hold_reason", f"为空，但项目已{stage}", "搁置或终止的项目须写明原因")
    order = [f for f in ("signed_on", "registered_on", "started_on", "producing_on") if v.get(f)]
    for a, b in zip(order, order[1:]):
        if v[b] < v[a]:
            bad(b, f"早于{FIELD_LABELS[a]}（{v[a].isoformat()}）", "请核对日期先后")


def _side_sheet(path: Path, sheets: list[str], name: str, fields: tuple[FieldSpec, ...], reader: ProblemReader
                ) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of 阶段变更记录 / 走访记录 as {field: cell}; absent sheets give nothing (a plain ledger has none)."""
    if name not in sheets:
        return
    try:
        table, columns = _read(path, fields, name)
    except ReadError as exc:
        reader.problem(name, 0, "", "", str(exc), f"表头应为：{'、'.join(f.label_zh for f in fields)}")
        return
    missing = [f.label_zh for f in fields if f.id not in columns and f.id not in ("name", "at", "by_user")]
    if missing:
        reader.problem(name, table.header_row, "、".join(missing), "", "表头缺少此列", "请保留导出时的表头")
        return
    for i, r in enumerate(table.row_numbers):
        cells = table.row(i)
        yield r, {f: cells[cm.index] for f, cm in columns.items()}


def _read_history(path: Path, sheets: list[str], reader: ProblemReader, codes: set[str], session: Session
                  ) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    sheet = HISTORY_SHEET

    def stage(value: object, r: int, column: str, allow_blank: bool) -> str | None:
        text = clean_text(value)
        if not text and allow_blank:
            return None
        try:
            return normalize_stage(text)
        except StageError as exc:
            reader.problem(sheet, r, column, value, f"：{exc}", "请填写有效阶段")
            return None

    for r, cells in _side_sheet(path, sheets, sheet, HISTORY_FIELDS, reader):
        code = clean_text(cells.get("code"))
        if not _known_code(code, codes, session):
            reader.problem(sheet, r, "项目编号", code, "不在项目台账中", "请先在“项目台账”中登记该项目，或删除此行")
            continue
        try:
            changed_on = parse_date(cells.get("changed_on"))
        except ValueProblem as exc:
            reader.problem(sheet, r, "变更日期", cells.get("changed_on"), f"：{exc.message}", exc.action)
            continue
        at = clean_text(cells.get("at"))
        try:
            at_value = datetime.fromisoformat(at) if at else None
        except ValueError:
            reader.problem(sheet, r, "记录时间", at, "不是有效的时间", "请保留导出时的格式，或留空")
            continue
        to_stage = stage(cells.get("to_stage"), r, "新阶段", False)
        if to_stage is None:
            continue
        out.setdefault(code, []).append({
            "from_stage": stage(cells.get("from_stage"), r, "原阶段", True), "to_stage": to_stage,
            "changed_on": changed_on, "reason": clean_text(cells.get("reason")),
            "by_user": clean_text(cells.get("by_user")) or "import", "at": at_value, "row": r,
        })
    return out


def _read_activities(path: Path, sheets: list[str], reader: ProblemReader, codes: set[str], session: Session
                     ) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    sheet = ACTIVITY_SHEET
    for r, cells in _side_sheet(path, sheets, sheet, ACTIVITY_FIELDS, reader):
        code = clean_text(cells.get("code"))
        if not _known_code(code, codes, session):
            reader.problem(sheet, r, "项目编号", code, "不在项目台账中", "请先在“项目台账”中登记该项目，或删除此行")
            continue
        try:
            on = parse_date(cells.get("on"))
        except ValueProblem as exc:
            reader.problem(sheet, r, "日期", cells.get("on"), f"：{exc.message}", exc.action)
            continue
        kind = clean_text(cells.get("kind")) or "拜访"
        if kind not in ACTIVITY_KINDS:
            reader.problem(sheet, r, "方式", kind, "不是有效的记录方式", f"请填写：{'、'.join(ACTIVITY_KINDS)}")
            continue
        content = clean_text(cells.get("content"))
        if not content:
            reader.problem(sheet, r, "内容", "", "为空", "请写明走访或联系的内容")
            continue
        out.setdefault(code, []).append({"on": on, "kind": kind, "content": content,
                                         "by_user": clean_text(cells.get("by_user"))})
    return out


def _known_code(code: str, codes: set[str], session: Session) -> bool:
    return bool(code) and (code in codes or session.scalar(select(Project.id).where(Project.code == code)) is not None)


def _check_history_matches(rows: list[_Row], history: dict[str, list[dict[str, Any]]], reader: ProblemReader,
                           sheet: str) -> None:
    for row in rows:
        code = row.values.get("code")
        changes = history.get(code or "")
        if changes and row.values.get("stage"):
            last = max(changes, key=lambda c: (c["changed_on"], c["row"]))
            if last["to_stage"] != row.values["stage"]:
                reader.problem(sheet, row.number, "阶段", row.values["stage"],
                               f"与“{HISTORY_SHEET}”最后一条（{last['changed_on'].isoformat()} → {last['to_stage']}）不一致",
                               "请核对项目当前阶段或补全阶段变更记录")


def _write(session: Session, path: Path, rows: list[_Row], history: dict[str, list[dict[str, Any]]],
           activities: dict[str, list[dict[str, Any]]], by_user: str, ctx: RowContext) -> LedgerImportResult:
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    batch = ImportBatch(kind="projects", file_name=path.name, sha256=sha, by_user=by_user, rows_total=len(rows),
                        mapping={"sheet": MAIN_SHEET})
    session.add(batch)
    session.flush()
    inserted = updated = unchanged = changes_added = acts_added = 0
    codes: list[str] = []
    existing = _existing(session, [r.values["code"] for r in rows if r.values.get("code")])
    created: list[Project] = []
    for row in rows:
        v = dict(row.values)
        v.pop("row_no", None)
        uscc = v.pop("investor_uscc", "") or ""
        v["investor_id"] = investor_id_for(session, uscc, v.get("investor_name", ""))
        code = v.pop("code", "") or ""
        project = existing.get(code) if code else None
        if project is None and not code:
            # A row typed without a code: match by name and investor so re-importing it does not duplicate it.
            project = session.scalar(select(Project).where(Project.zone_id == v["zone_id"], Project.name == v["name"],
                                                           Project.investor_name == v.get("investor_name", "")))
        for f in ("created_at", "stage_changed_on", "chain_id"):
            if not v.get(f):
                v.pop(f, None)  # blank: keep what the project has, or the default below for a new one
        v["source"] = v.get("source") or f"import:{batch.id}"
        if project is None:
            dated = [v.get(f) for f in DATE_FIELD.values() if v.get(f)]
            v.setdefault("stage_changed_on", max(dated, default=None) or ctx.today)
            v.setdefault("chain_id", ctx.chain_id)
            project = Project(code=code or next_code(session, v["stage_changed_on"]), **v)
            session.add(project)
            created.append(project)
        else:
            v.pop("source")  # the origin of an existing project stays what it was
            changed = [f for f, value in v.items() if not _same(getattr(project, f), value)]
            if changed:
                before = snapshot(project, changed)
                for f in changed:
                    setattr(project, f, v[f])
                session.flush()
                audit(session, by_user, "project.import", "project", project.code, before, snapshot(project, changed))
                updated += 1
            else:
                unchanged += 1
        codes.append(project.code)
        changes_added += _merge_history(project, history.get(code, []), by_user)
        acts_added += _merge_activities(project, activities.get(code, []))
    session.flush()  # one flush for all new rows; their audit entries then show the stored values
    for project in created:
        audit(session, by_user, "project.import", "project", project.code, None, snapshot(project))
    inserted = len(created)
    batch.rows_inserted, batch.rows_merged = inserted, updated
    return LedgerImportResult(path.name, len(rows), inserted, updated, unchanged, changes_added, acts_added, batch.id,
                              codes)


def _existing(session: Session, codes: list[str]) -> dict[str, Project]:
    """The projects the file names, with their history, in a few queries rather than three per row."""
    out: dict[str, Project] = {}
    for i in range(0, len(codes), 500):
        q = select(Project).where(Project.code.in_(codes[i : i + 500]))
        for p in session.scalars(q.options(selectinload(Project.stage_changes), selectinload(Project.activities))):
            out[p.code] = p
    return out


def _same(current: Any, new: Any) -> bool:
    if isinstance(current, datetime) and isinstance(new, datetime):
        # SQLite hands back naive UTC; compare instants, not representations.
        a = current if current.tzinfo else current.replace(tzinfo=timezone.utc)
        b = new if new.tzinfo else new.replace(tzinfo=timezone.utc)
        return a == b
    return current == new


def investor_id_for(session: Session, uscc: str, name: str) -> int | None:
    if uscc:
        found = session.scalar(select(Enterprise.id).where(Enterprise.uscc == uscc))
        if found is not None:
            return found
    if name:
        return session.scalars(select(Enterprise.id).where(Enterprise.name == name).order_by(Enterprise.id)).first()
    return None


def _merge_history(project: Project, rows: list[dict[str, Any]], by_user: str) -> int:
    have = {(c.from_stage, c.to_stage, c.changed_on, c.reason) for c in project.stage_changes}
    added = 0
    for c in sorted(rows, key=lambda c: (c["changed_on"], c["row"])):
        key = (c["from_stage"], c["to_stage"], c["changed_on"], c["reason"])
        if key in have:
            continue
        change = StageChange(from_stage=c["from_stage"], to_stage=c["to_stage"], changed_on=c["changed_on"],
                             reason=c["reason"], by_user=c["by_user"])
        if c["at"] is not None:
            change.at = c["at"]
        project.stage_changes.append(change)
        have.add(key)
        added += 1
    if not project.stage_changes:
        # A ledger without history still says where the project stands and since when.
        project.stage_changes.append(StageChange(from_stage=None, to_stage=project.stage,
                                                 changed_on=project.stage_changed_on, reason="台账导入", by_user=by_user))
        added += 1
    return added


def _merge_activities(project: Project, rows: list[dict[str, Any]]) -> int:
    have = {(a.on, a.kind, a.content, a.by_user) for a in project.activities}
    added = 0
    for a in rows:
        key = (a["on"], a["kind"], a["content"], a["by_user"])
        if key not in have:
            project.activities.append(ProjectActivity(**a))
            have.add(key)
            added += 1
    return added


__all__ = ["export_ledger", "import_ledger", "LedgerImportError", "LedgerImportResult", "LedgerProblem", "COLUMNS"]
