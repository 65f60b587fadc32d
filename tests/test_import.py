"""Importing enterprise and relation files into a real database (SQLite and PostgreSQL): what lands, what is held."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from chainatlas.services.ingest import enterprises as enterprise_steps
from chainatlas.services.demo.generate import generate_enterprises
from chainatlas.services.ingest.imports import held_problems, import_enterprises, import_relations, write_error_report
from chainatlas.services.catalog.zones import load_zone
from chainatlas.store import db
from chainatlas.store.models import (
    AuditEntry,
    Enterprise,
    EnterpriseAlias,
    EnterpriseProduct,
    HeldRow,
    ImportBatch,
    MergeCandidate,
    Relation,
)
from ingest_files import BAD_CHECK, DONGFENG, HUACHUANG, SHENZHEN, gbk_csv, merged_header_xlsx

pytestmark = pytest.mark.db


@pytest.fixture
def zone_db(db_url: str) -> str:
    with db.session_scope(db_url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
    return db_url


def _counts(url: str) -> dict[str, int]:
    with db.session_scope(url) as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
                for m in (Enterprise, EnterpriseAlias, EnterpriseProduct, ImportBatch, HeldRow, MergeCandidate,
                          AuditEntry, Relation)}


def _by_name(s: Session, name: str) -> Enterprise:
    return s.scalars(select(Enterprise).where(Enterprise.name == name)).one()


def test_messy_gbk_csv_lands_exactly(zone_db: str, tmp_path: Path) -> None:
    path = gbk_csv(tmp_path / "重点企业.csv")
    with db.session_scope(zone_db) as s:
        summary = import_enterprises(s, path, by_user="alice")
    assert (summary.encoding, summary.header_row, summary.rows_total, summary.blank_rows) == ("gb18030", 2, 9, 2)
    # 9 rows: 2 held (rows 10, 13); row 6 repeats row 3's USCC, row 9 is row 8 in half width; row 11 is row 7 with
    # a typo (鹏城/鹏程) at the same address and date: merged by the probabilistic match
    assert (summary.rows_inserted, summary.rows_merged, summary.rows_linked, summary.rows_review,
            summary.rows_held) == (4, 2, 1, 0, 2)
    assert summary.zone_counts == {"wuhan-edz": 3}
    problems = [(p.row, p.column, p.value) for p in summary.problems]
    assert problems == [(10, "统一社会信用代码", BAD_CHECK),
                        (10, "注册资本", "abc"), (10, "成立日期", "2019-02-30"),
                        (13, "统一社会信用代码", "91420100MA4K8A1B"), (13, "企业名称", "")]
    assert "校验位错误" in summary.problems[0].problem and "实际为16位" in summary.problems[3].problem
    assert all(p.file == "重点企业.csv" and p.action for p in summary.problems)

    with db.session_scope(zone_db) as s:
        live = s.scalars(select(Enterprise).where(Enterprise.merged_into_id.is_(None)).order_by(Enterprise.id)).all()
        assert [e.name for e in live] == ["武汉华创智能科技有限公司", "东风智联汽车零部件有限公司", "深圳鹏程电子有限公司",
                                          "ＡＢＣ精密机械（武汉）有限公司"]
        hc = live[0]
        assert (hc.uscc, hc.registered_capital, hc.capital_currency, hc.founded_on, hc.employees, hc.revenue_yuan) == (
            HUACHUANG, 10_000_000, "CNY", date(2019, 1, 2), 12_000, 35_000_000)
        assert (hc.district_code, hc.zone_id) == ("420113", "wuhan-edz")
        assert sorted(p.product for p in hc.products) == ["BMS", "动力电池", "热管理"]  # row 6 added 热管理
        df = live[1]
        assert (df.registered_capital, df.capital_currency, df.registered_capital_yuan) == (5_000_000, "USD", 35_500_000)
        assert (df.founded_on, df.district_code, df.street_code, df.zone_id) == (
            date(2010, 5, 1), "420114", "420114070", "wuhan-edz")
        sz = live[2]
        assert (sz.uscc, sz.city_code, sz.zone_id, sz.registered_capital_yuan) == (SHENZHEN, "4403", None, 120_000_000)
        assert [a.alias for a in sz.aliases] == ["深圳鹏城电子有限公司"]  # the typo'd spelling, kept as an alias
        assert live[3].zone_id == "wuhan-edz" and live[3].name_norm == "abc精密机械(武汉)有限公司"
        typo = _by_name(s, "深圳鹏城电子有限公司")
        assert typo.merged_into_id == sz.id
        cand = s.scalars(select(MergeCandidate)).one()
        assert (cand.status, cand.decided_by, cand.left_id, cand.right_id) == ("accepted", "auto", sz.id, typo.id)
        assert cand.probability >= 0.95 and cand.evidence["name_core"] == "核心名称仅差一字"
        held = s.scalars(select(HeldRow).order_by(HeldRow.row_number)).all()
        assert [h.row_number for h in held] == [10, 13]
        assert held[0].values["企业名称"] == "坏代码有限公司" and len(held[0].problems) == 3
        actions = [a.action for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        # the zone saved by the fixture, then the import: it places the firms it brought (a "classify" entry per
        # chain) before its own summary
        assert actions == ["zone.save", "enterprise.merge", "classify", "import.enterprises"]
        batch = s.scalars(select(ImportBatch)).one()
        assert (batch.rows_total, batch.rows_inserted, batch.rows_merged, batch.rows_held, batch.by_user) == (
            9, 4, 3, 2, "alice")
        assert all(e.source == f"import:{batch.id}" for e in live)

    with db.session_scope(zone_db) as s:
        assert held_problems(s, summary.batch_id) == summary.problems  # the report can be made again later
    report = write_error_report(summary.problems, tmp_path / "问题.xlsx")
    ws = load_workbook(report).active
    rows = list(ws.values)
    assert rows[0] == ("文件", "行号", "列", "值", "问题", "处理建议")
    assert rows[2][1:4] == (10, "注册资本", "abc") and len(rows) == 6


def test_importing_the_same_file_twice_changes_nothing(zone_db: str, tmp_path: Path) -> None:
    path = gbk_csv(tmp_path / "a.csv")
    with db.session_scope(zone_db) as s:
        first = import_enterprises(s, path)
    before = _counts(zone_db)
    with db.session_scope(zone_db) as s:
        again = import_enterprises(s, path)
    assert again.already_imported and again.batch_id == first.batch_id
    assert _counts(zone_db) == before


def test_same_firms_in_another_file_fill_blanks_only(zone_db: str, tmp_path: Path) -> None:
    with db.session_scope(zone_db) as s:
        import_enterprises(s, gbk_csv(tmp_path / "a.csv"))
    other = tmp_path / "补充.csv"
    other.write_text("公司名称,信用代码,地址,员工数,网址\n"
                     f"华创智能,{HUACHUANG},武汉市汉南区别的路1号,999,www.huachuang.example\n"
                     "深圳鹏程电子有限公司,,,,\n", encoding="utf-8")
    before = _counts(zone_db)
    with db.session_scope(zone_db) as s:
        summary = import_enterprises(s, other, by_user="bob")
    assert (summary.rows_inserted, summary.rows_merged, summary.enterprises_updated) == (0, 2, 1)
    after = _counts(zone_db)
    assert after["enterprises"] == before["enterprises"]
    with db.session_scope(zone_db) as s:
        hc = _by_name(s, "武汉华创智能科技有限公司")
        assert (hc.employees, hc.website) == (12_000, "www.huachuang.example")  # known values are kept
        assert hc.address == "武汉市汉南区纱帽街道通航大道18号"
        assert "华创智能" in {a.alias for a in hc.aliases}
        update = s.scalars(select(AuditEntry).where(AuditEntry.action == "import.update")).one()
        assert (update.username, update.entity_id, update.before["website"]) == ("bob", str(hc.id), "")
        assert update.after["website"] == "www.huachuang.example"
    # the same rows once more, in a file with other bytes: nothing new at all
    other.write_text(other.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    before = _counts(zone_db)
    with db.session_scope(zone_db) as s:
        summary = import_enterprises(s, other)
    assert (summary.rows_inserted, summary.enterprises_updated, summary.rows_merged) == (0, 0, 2)
    after = _counts(zone_db)
    assert {k: after[k] - before[k] for k in after} == {k: 0 for k in after} | {"import_batches": 1, "audit_log": 1}


def test_xlsx_with_title_row_and_merged_headers(zone_db: str, tmp_path: Path) -> None:
    with db.session_scope(zone_db) as s:
        summary = import_enterprises(s, merged_header_xlsx(tmp_path / "名录.xlsx"))
    assert (summary.rows_total, summary.rows_inserted, summary.rows_held, summary.sheet) == (2, 2, 0, "名单")
    with db.session_scope(zone_db) as s:
        df = s.scalars(select(Enterprise).where(Enterprise.uscc == DONGFENG)).one()
        assert (df.founded_on, df.registered_capital, df.capital_currency) == (date(2010, 5, 1), 5_000_000, "USD")
        hc = s.scalars(select(Enterprise).where(Enterprise.uscc == HUACHUANG)).one()
        assert (hc.registered_capital, hc.revenue_yuan) == (10_000_000, 35_000_000)  # 财务数据(万元)


def _cli(url: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "CHAINATLAS_DATABASE_URL": url, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "chainatlas.cli.main", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_an_import_killed_midway_leaves_the_database_as_it_was(zone_db: str, tmp_path: Path, sig: int) -> None:
    path = tmp_path / "big.csv"
    generate_enterprises(6_000, seed=3, out=path)
    before = _counts(zone_db)
    proc = _cli(zone_db, "import", "enterprises", str(path))
    assert proc.stdout is not None
    for line in proc.stdout:  # the batch row and the first enterprises are written by now, uncommitted
        if line.startswith("写入"):
            break
    else:
        pytest.fail(f"import never reached the write stage: {proc.stderr.read() if proc.stderr else ''}")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "已中断" in out and "Traceback" not in err
    assert _counts(zone_db) == before
    # and the file imports normally afterwards (no half batch marks it as done)
    with db.session_scope(zone_db) as s:
        summary = import_enterprises(s, path, fuzzy=False)
    assert not summary.already_imported and summary.rows_inserted > 5_400


def test_cli_user_mistakes_exit_1_with_chinese_and_no_traceback(zone_db: str, tmp_path: Path) -> None:
    no_name = tmp_path / "无名称.csv"
    no_name.write_text("地址,注册资本\n武汉市,100万\n", encoding="utf-8")
    for args, words in ((["import", "enterprises", str(tmp_path / "没有.csv")], "找不到文件"),
                        (["import", "enterprises", str(no_name)], "找不到“企业名称”列"),
                        (["import", "enterprises", str(no_name), "--zone", "火星开发区"], "找不到开发区"),
                        (["review", "accept", "999"], "找不到待审核记录 #999")):
        proc = _cli(zone_db, *args)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, (args, out, err)
        assert words in out.replace("\n", "") and "Traceback" not in out + err


def test_cli_preview_writes_nothing(zone_db: str, tmp_path: Path) -> None:
    before = _counts(zone_db)
    proc = _cli(zone_db, "import", "enterprises", str(gbk_csv(tmp_path / "a.csv")), "--preview")
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert "表头在第 2 行" in out and "统一社会信用代码 (uscc)" in out and "武汉华创智能科技有限公司" in out
    assert _counts(zone_db) == before


def test_relations_reference_known_firms_and_create_unknown_ones(zone_db: str, tmp_path: Path) -> None:
    with db.session_scope(zone_db) as s:
        import_enterprises(s, gbk_csv(tmp_path / "a.csv"))
    rel = tmp_path / "配套.csv"
    rel.write_text("供应商,供应商统一社会信用代码,客户,产品,年份,金额\n"
                   f",{HUACHUANG},岚图汽车科技有限公司,动力电池包,2023,1.5亿元\n"
                   "东风智联汽车零部件有限公司,,岚图汽车科技有限公司,底盘,2023,\n"
                   "Bosch,,岚图汽车科技有限公司,ESP,2022,\n"
                   "东风智联汽车零部件有限公司,,岚图汽车科技有限公司,底盘,2023,\n"
                   ",,岚图汽车科技有限公司,座椅,2023,\n", encoding="utf-8")
    with db.session_scope(zone_db) as s:
        summary = import_relations(s, rel, by_user="carol")
    assert (summary.rows_total, summary.rows_inserted, summary.rows_merged, summary.rows_held,
            summary.enterprises_created) == (5, 3, 1, 1, 2)
    assert summary.problems[0].row == 6 and "供应商名称和信用代码都为空" in summary.problems[0].problem
    with db.session_scope(zone_db) as s:
        voyah = _by_name(s, "岚图汽车科技有限公司")
        assert voyah.source == f"import:{summary.batch_id}:relation" and voyah.zone_id is None
        assert _by_name(s, "Bosch").name_en == "Bosch"
        rows = s.execute(select(Relation.product, Relation.year, Relation.value_yuan)
                         .where(Relation.customer_id == voyah.id).order_by(Relation.product)).all()
        assert rows == [("ESP", 2022, None), ("动力电池包", 2023, 150_000_000), ("底盘", 2023, None)]
        hc = s.scalars(select(Enterprise).where(Enterprise.uscc == HUACHUANG)).one()
        assert s.scalar(select(Relation.supplier_id).where(Relation.product == "动力电池包")) == hc.id
    before = _counts(zone_db)
    with db.session_scope(zone_db) as s:
        assert import_relations(s, rel).already_imported
    assert _counts(zone_db) == before


def test_demo_generated_file_is_marked_and_imports_as_demo(zone_db: str, tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    info = generate_enterprises(300, seed=5, out=path, fmt="xlsx")
    assert info.rows == 300 and info.duplicates > 0
    ws = load_workbook(path, read_only=True).active
    header = next(ws.iter_rows(values_only=True))
    assert header[-1] == "数据来源"
    assert all(row[-1] == "演示数据（程序生成）" for row in ws.iter_rows(min_row=2, values_only=True))
    with db.session_scope(zone_db) as s:
        summary = import_enterprises(s, path)
    assert summary.rows_held == info.bad_uscc
    with db.session_scope(zone_db) as s:
        sources = set(s.scalars(select(Enterprise.source)))
    assert sources == {"demo"}


def test_a_repeated_row_adds_only_to_its_own_firm(zone_db: str, tmp_path: Path) -> None:
    """Cells with the same text parse to one shared value; a later row of firm A adding a designation, a product
    or a former name must not reach firm B, whose cells only read the same."""
    path = tmp_path / "资质.csv"
    path.write_text("企业名称,统一社会信用代码,企业资质,主营产品,曾用名\n"
                    f"武汉华创智能科技有限公司,{HUACHUANG},高新技术企业,电池,华创老厂\n"
                    f"东风智联汽车零部件有限公司,{DONGFENG},高新技术企业,电池,华创老厂\n"
                    f"武汉华创智能科技有限公司,{HUACHUANG},国家级专精特新小巨人（2022）,电机,华创旧厂\n", encoding="utf-8")
    with db.session_scope(zone_db) as s:
        summary = import_enterprises(s, path, fuzzy=False)
    assert (summary.rows_inserted, summary.rows_merged) == (2, 1)
    with db.session_scope(zone_db) as s:
        def marks(name: str) -> tuple:
            e = _by_name(s, name)
            return (sorted(d.name for d in e.designations), sorted(p.product for p in e.products),
                    sorted(a.alias for a in e.aliases))
        assert marks("武汉华创智能科技有限公司") == (["专精特新小巨人", "高新技术企业"], ["电机", "电池"], ["华创旧厂", "华创老厂"])
        assert marks("东风智联汽车零部件有限公司") == (["高新技术企业"], ["电池"], ["华创老厂"])


def _landed(url: str) -> list[tuple]:
    """Every firm with its aliases and products, in a form that does not depend on ids or timestamps."""
    with db.session_scope(url) as s:
        return [(e.name, e.name_norm, e.uscc, e.address, e.province_code, e.city_code, e.district_code, e.zone_id,
                 e.park_id, e.street_code, e.registered_capital, e.capital_currency, e.registered_capital_yuan,
                 e.founded_on, e.foreign_invested, e.employees, e.revenue_yuan, e.status, e.source,
                 e.merged_into_id is None, sorted((a.alias, a.kind) for a in e.aliases),
                 sorted(p.product for p in e.products), sorted((d.name, d.level, d.year) for d in e.designations))
                for e in s.scalars(select(Enterprise).order_by(Enterprise.id))]


def _indexes(url: str) -> set[str]:
    with db.session_scope(url) as s:
        return set(s.scalars(text("SELECT name FROM sqlite_master WHERE type = 'index'")))


_LARGE_PATHS = ("import chainatlas.services.ingest.imports as m; m.DEFER_INDEXES_ROWS = 1; "
                "from chainatlas.cli.main import app; app()")


@pytest.mark.parametrize("messy", ["gbk", "generated"])
def test_large_import_paths_land_exactly_what_the_plain_path_lands(zone_db: str, tmp_path: Path, messy: str) -> None:
    """The large-file path (SQLite drops its indexes for the load and rebuilds them before commit) gives exactly
    what the plain path gives on a messy file: same firms, names, aliases, products, merges, held rows and
    messages; the indexes are all back. It runs through the CLI, as users run it."""
    if messy == "gbk":  # repeats, near-repeats (merged by splink after the load) and bad cells
        path, flags = gbk_csv(tmp_path / "重点企业.csv"), []
    else:
        path, flags = tmp_path / "messy.csv", ["--no-fuzzy"]
        generate_enterprises(3_000, seed=8, out=path)
    other = f"sqlite:///{tmp_path / 'plain.db'}"
    db.migrate(other)
    with db.session_scope(other) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
    with db.session_scope(other) as s:
        plain = import_enterprises(s, path, fuzzy=not flags)
    env = {**os.environ, "CHAINATLAS_DATABASE_URL": zone_db, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-c", _LARGE_PATHS, "import", "enterprises", str(path), *flags], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    def outcome(url: str) -> tuple:
        with db.session_scope(url) as s:
            b = s.scalars(select(ImportBatch)).one()
            held = [(h.row_number, h.values, h.problems)
                    for h in s.scalars(select(HeldRow).order_by(HeldRow.row_number))]
            review = s.scalar(select(func.count()).select_from(MergeCandidate))
            return (b.rows_total, b.rows_inserted, b.rows_merged, b.rows_held), held, review

    assert plain.rows_held > 0 and outcome(zone_db) == outcome(other)
    assert _landed(zone_db) == _landed(other)
    if zone_db.startswith("sqlite"):
        assert _indexes(zone_db) == _indexes(other)
    # a second file of the same firms goes through the same paths and finds them all (uscc stays unique)
    again = subprocess.run([sys.executable, "-c", _LARGE_PATHS, "import", "enterprises",
                            str(_renamed(path, tmp_path / "again.csv")), "--no-fuzzy"], env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    with db.session_scope(zone_db) as s:
        batch = s.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
        assert (batch.rows_inserted, batch.rows_held) == (0, plain.rows_held)


def _renamed(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes() + "\n".encode())  # a different file (sha256) with the same rows
    return dst


def test_bulk_load_interrupted_inside_the_index_rebuild_window_changes_nothing(
        zone_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.csv"
    generate_enterprises(3_000, seed=4, out=path)
    with db.session_scope(zone_db) as s:
        import_enterprises(s, gbk_csv(tmp_path / "a.csv"))
    before, indexes = _counts(zone_db), _indexes(zone_db) if zone_db.startswith("sqlite") else set()
    monkeypatch.setattr(enterprise_steps, "DEFER_INDEXES_ROWS", 1)  # the write step reads it

    def interrupt(stage: str, done: int, total: int) -> None:
        if stage == "写入" and done > 0:  # the first firms are written and the indexes dropped
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with db.session_scope(zone_db) as s:
            import_enterprises(s, path, fuzzy=False, progress=interrupt)
    assert _counts(zone_db) == before
    if zone_db.startswith("sqlite"):
        assert _indexes(zone_db) == indexes
