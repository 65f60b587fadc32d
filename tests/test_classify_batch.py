"""The columnar batch engine gives exactly the engine's placements: labelled firms, crafted edge cases, 50,000
generated registry rows, and the command's output file byte for byte."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainatlas.cli.main import app
from chainatlas.domain.chain import load_chain
from chainatlas.engines.classify import Classifier, Placement, Record, parse_products
from chainatlas.engines.classify_batch import BatchClassifier, classify_frame_parallel, placements_of
from chainatlas.engines.placement_quality import load_labelled
from chainatlas.services.placement import read_frame

LABELS = Path(__file__).parent / "data" / "labels" / "nev_icv_companies.csv"


@pytest.fixture(scope="module")
def chain():
    return load_chain("nev-icv")


def assert_same(expected: list[Placement], got: list[Placement]) -> None:
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        assert (g.id, g.node_id, g.node_name, g.evidence) == (e.id, e.node_id, e.node_name, e.evidence)
        assert math.isclose(g.score, e.score, abs_tol=1e-9) and math.isclose(g.confidence, e.confidence, abs_tol=1e-9)


def engine(chain, records: list[Record]) -> list[Placement]:
    clf = Classifier(chain)
    return [p for r in records for p in clf.classify(r)]


EDGE_CASES = [
    # negative contexts, phrase rules, Latin words, full-width letters, qualifiers, weak words, shares, priors
    [("手机摄像头模组", 0.9)], [("安防监控摄像头", 0.9)], [("车载摄像头模组", 0.9)], [("手机及车载摄像头模组", 0.9)],
    [("消费类锂电池", 0.9)], [("3C锂电池", 0.9)], [("动力锂电池", 0.9)], [("光伏逆变器", 0.9)], [("组串式逆变器", 0.9)],
    [("电机控制器", 0.9)], [("家电电机", 0.9)], [("空调电机", 0.9)], [("航空发动机零部件", 0.9)], [("飞机制动器", 0.9)],
    [("工业机器人", 0.9)], [("ASIC芯片", 0.9)], [("SiC MOSFET", 0.9)], [("ｂｍｓ主板", 0.9)], [("bms主板", 0.9)],
    [("改性ABS类", 0.9)], [("新能源汽车高压线束", 0.9)], [("新能源汽车驱动电机控制器", 0.9)], [("动力电池管理系统", 0.9)],
    [("新能源汽车充电桩", 0.9)], [("齿轮", 0.9)], [("乘用车齿轮", 0.9)], [("锂离子电池", 0.9)], [("汽车零部件", 0.9)],
    [("动力电池", 0.3)], [("动力电池", 0.3), ("锂离子电池", 0.3)], [("动力电池模组", 0.9)], [("AR-HUD", 0.9)],
    [("电池管理系统", 0.3), ("动力电池", 0.6)], [("饼干", 0.7), ("糖果", 0.3)], [("手机摄像头模组", 0.95), ("车载镜头", 0.03)],
    [("手机摄像头模组", 0.5), ("车载镜头", 0.45)], [("车载镜头", 0.25)], [("车载镜头", 0.6)], [("车载镜头", None)],
    [("车载镜头", 0.15)], [("乘用车", 0.5), ("乘用车齿轮", 0.5)], [("动力电池系统", 0.8), ("储能电池", 0.1)],
    [("车载镜头", float("nan")), ("动力电池", 0.0005)], [], [("", None)],
]


def edge_records() -> list[Record]:
    records = []
    for i, products in enumerate(EDGE_CASES):
        records.append(Record(f"p{i}", "", products))
        records.append(Record(f"c{i}", "", products, "", "3962"))
        records.append(Record(f"t{i}", "", products, "", "汽车零部件及配件制造"))  # a code that is text
    records += [
        Record("n1", "某某食品有限公司", [("饼干", 0.7)], "食品生产、销售", "1419"),
        Record("n2", "武汉某汽车有限公司", [], "汽车整车及零部件的研发、生产和销售", "3612"),
        Record("n3", "某某激光雷达科技有限公司"),
        Record("n4", "某某激光雷达科技有限公司", [], "车载激光雷达、固态激光雷达的研发", ""),
        Record("n5", "", [], "", "3841"),
        Record("n6", "", [], "", "C3670", "汽车制造业"),
        Record("n7", "ＢＭＳ科技", [("BMS", None)], "ＳｉＣ功率器件", " 3670 "),
        Record("n4", "某某激光雷达科技有限公司", [], "车载激光雷达、固态激光雷达的研发", ""),  # repeated id and firm
        # weak words a prior lets count: in the name alone, in a product line; stock industries, a GB/T code
        Record("s1", "某某电机有限公司", [("电机", None)], "", "", "汽车配件"),
        Record("s2", "某某汽车零部件有限公司", [], "", "", "汽车配件"),
        Record("s3", "某某汽车零部件有限公司", [], "", "底盘与发动机系统", "汽车配件"),
        Record("s4", "", [("柴油机", 0.9)], "", "3670"),
        Record("s5", "", [("柴油机", 0.9)], "", "", "食品"),
        Record("s8", "", [("柴油机", 0.9)], "", "", "底盘与发动机系统 农用机械"),  # a negative industry: no prior
        Record("s9", "", [("柴油机", 0.9)], "", "3670", "农用机械"),
        Record("s6", "", [("汽车座椅", 0.001), ("座椅骨架", 0.0)]),  # all placeholders: shares unknown
        Record("s7", "", [("办公家具", 0.9), ("汽车座椅", 0.001)]),  # a placeholder line alone never places
        # supply relations: components supplied to named customers, beside thin or strong own text
        Record("r1", "", [("机加工件", 0.9)], supplied=[("盘式制动器", "比亚迪股份有限公司"), ("Disc Brake", "BYD")]),
        Record("r2", "某某电池有限公司", [], industry="汽车配件", supplied=[("电池包", "蔚来汽车")]),
        Record("r3", "", [("动力电池", 0.5)], supplied=[("动力电池", "比亚迪"), ("动力电池", "吉利汽车")]),
        Record("r4", "", [], supplied=[("饼干", "某某食品"), ("ABS ESC", "BYD")]),
        Record("r5", "", [], supplied=[("电池包", "蔚来汽车"), ("电池包", "某某储能有限公司")]),
    ]
    return records


def test_crafted_edge_cases_match_the_engine(chain) -> None:
    records = edge_records()
    expected = engine(chain, records)
    assert len(expected) > 20  # the cases place firms, not only reject them
    assert_same(expected, BatchClassifier(chain).classify_records(records))


def test_labelled_firms_match_the_engine(chain, shared_data: Path) -> None:
    records = [item.record for item in load_labelled(shared_data, chain, LABELS)]
    assert len(records) >= 500
    assert_same(engine(chain, records), BatchClassifier(chain).classify_records(records))


def test_50k_generated_firms_match_the_engine(chain, generated_firms: Path) -> None:
    frame = read_frame(generated_firms)
    assert frame.height >= 50_000
    records = [
        Record(i, name, parse_products(products), scope, code, industry)
        for i, name, products, scope, code, industry in frame.iter_rows()
    ]
    expected = engine(chain, records)
    assert len(expected) > 10_000
    assert_same(expected, placements_of(BatchClassifier(chain).classify_frame(frame)))


def test_diverse_registry_rows_match_the_engine(chain, shared_data: Path) -> None:
    """Rows where almost every product cell and business scope differs (as in a real registry), from real
    products with their revenue shares and GB/T 4754 class names: the batch engine's shortcuts for such columns
    (scopes scanned without sifting or grouping, product cells read only where a placement needs them) change
    nothing."""
    import csv
    import random

    import polars as pl

    rng = random.Random(20)
    with open(shared_data / "industry_chain" / "ckg_company_product.csv", encoding="utf-8") as fh:
        lines = [(r["product"], r["weight"]) for r in csv.DictReader(fh)][:20_000]
    with open(shared_data / "industry_codes" / "gbt4754_2017.csv", encoding="utf-8") as fh:
        classes = [r["name"] for r in csv.DictReader(fh) if r["level"] == "4"]
    words = [w for node in chain.nodes.values() for w in node.keywords]
    rows = []
    for i in range(4000):
        products = rng.sample(lines, rng.randint(1, 5))
        cell = rng.choice(("；", "、")).join(f"{p}:{w}" if rng.random() < 0.6 else p for p, w in products)
        items = rng.sample(classes, rng.randint(1, 4)) + [f"{p}制造" for p, _ in products[:2]]
        items += rng.sample(words, rng.randint(0, 2)) + ["技术服务、技术开发", "货物进出口"]
        rng.shuffle(items)
        scope = f"一般项目：{'；'.join(items)}（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）"
        rows.append((f"D{i}", f"某某{rng.choice(words)}有限公司" if rng.random() < 0.1 else f"某某{i}有限公司", cell,
                     scope, rng.choice(("3670", "3841", "C3670", "", "1419")), rng.choice(("汽车配件", "电气设备", ""))))
    frame = pl.DataFrame(rows, schema=["id", "name", "products", "scope", "industry_code", "industry"], orient="row")
    assert frame["scope"].n_unique() == frame.height and frame["products"].n_unique() > 0.9 * frame.height
    records = [Record(i, name, parse_products(products), scope, code, industry)
               for i, name, products, scope, code, industry in rows]
    expected = engine(chain, records)
    assert len(expected) > 500
    assert_same(expected, placements_of(BatchClassifier(chain).classify_frame(frame)))


def test_rows_dealt_out_to_worker_processes_come_back_in_order(chain, generated_firms: Path) -> None:
    """A file read whole (XLSX, Parquet) has its rows dealt out to worker processes, 100,000 or more each."""
    import polars as pl

    frame = read_frame(generated_firms)
    frame = pl.concat([frame.with_columns(pl.col("id") + f"-{k}") for k in range(4)])  # 200,000 rows
    assert frame.height >= 200_000
    one = BatchClassifier(chain, csv_evidence=True).classify_frame(frame)
    two = classify_frame_parallel(chain, frame, workers=2, csv_evidence=True)
    assert one.height > 40_000 and two.equals(one)


def test_command_output_is_what_the_engine_writes(tmp_path: Path) -> None:
    """The file written by `chainatlas classify` holds the engine's placements, row for row, in the format
    csv.writer gives (CRLF, minimal quoting), including ids that need quoting."""
    import csv
    import json

    src, out = tmp_path / "firms.csv", tmp_path / "out.csv"
    rows = [
        ["编号", "企业名称", "主营产品", "经营范围", "行业代码", "所属行业"],
        ['A,1', "某某汽车电子有限公司", "电池管理系统:0.3;动力电池:0.6", "", "C3670", ""],
        ['B"2', "某某光学有限公司", "手机摄像头模组", "光学镜头", "3976", ""],
        ["", "某某科技有限公司", "车载镜头", "车载摄像头的研发", "汽车零部件及配件制造", "汽车制造业"],
        ["", "", "", "", "", ""],
        ["C 3", "武汉某汽车有限公司", "", "汽车整车及零部件的研发、生产和销售", "3612", ""],
    ]
    with open(src, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    result = CliRunner().invoke(app, ["classify", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    clf = Classifier(load_chain("nev-icv"))
    records = [
        Record("A,1", "某某汽车电子有限公司", parse_products("电池管理系统:0.3;动力电池:0.6"), "", "3670"),
        Record('B"2', "某某光学有限公司", parse_products("手机摄像头模组"), "光学镜头", "3976"),
        Record("第4行", "某某科技有限公司", parse_products("车载镜头"), "车载摄像头的研发", "",
               "汽车制造业 汽车零部件及配件制造"),
        Record("C 3", "武汉某汽车有限公司", [], "汽车整车及零部件的研发、生产和销售", "3612"),
    ]
    expected = [p for r in records for p in clf.classify(r)]
    assert {p.id for p in expected} == {"A,1", "第4行", "C 3"}
    lines = ["id,node_id,node_name,score,evidence"]
    for p in expected:
        with_csv = []
        for value in (p.id, p.node_id, p.node_name, f"{p.score:.3f}",
                      json.dumps(p.evidence, ensure_ascii=False, separators=(",", ":"))):
            needs = any(ch in value for ch in ',"\r\n')
            with_csv.append('"' + value.replace('"', '""') + '"' if needs else value)
        lines.append(",".join(with_csv))
    assert out.read_bytes() == ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def test_scopes_scanned_as_read_are_the_engines_scan_of_the_clean_text(tmp_path: Path) -> None:
    """A file placed in one process has its scopes scanned as its frame is made, only the cells the clean-up may
    change cleaned first: the same placements as the engine on the cleaned texts (not on the raw ones: a NUL
    inside a word), blank rows skipped as before."""
    import csv

    from chainatlas.ingest.values import clean_text
    from chainatlas.services.placement import classify_file

    scopes = [" 车载激光雷达的研发 ", "车载\u3000激光雷达", "车载激光雷达\xa0的研发", "无", "\u2028车载镜头\u2029", "动力\x00电池",
              "车载\x00镜头", "", "   ", "ｅｖ充电桩（直流）", "动力电池", "电机", "NULL", "车载镜头、激光雷达", "\t动力电池管理系统"]
    rows = [(f"f{i}", "车载镜头:0.2" if i % 3 else "", scope, "3670" if i % 2 else "") for i, scope in enumerate(scopes)]
    src, out = tmp_path / "firms.csv", tmp_path / "out.csv"
    with open(src, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["编号", "主营产品", "经营范围", "行业代码"], *rows[:7], ["", " ", "\u3000 ", ""], *rows[7:]])
    done = classify_file(src, load_chain("nev-icv"), out, workers=1)
    clf = Classifier(load_chain("nev-icv"))

    def engine_on(text: Callable[[str], str]) -> list[tuple]:
        return [(p.id, p.node_id, f"{p.score:.3f}", p.evidence) for fid, products, scope, code in rows
                for p in clf.classify(Record(fid, "", parse_products(products), text(scope), code))]

    expected = engine_on(clean_text)
    assert (done.firms, done.processes) == (len(scopes), 1) and len({p[0] for p in expected}) > 8
    assert engine_on(str) != expected
    assert placements_of_file(out) == expected


def placements_of_file(out: Path) -> list[tuple]:
    """(id, node_id, score text, evidence) of each row of a `chainatlas classify` output."""
    import csv
    import json

    with open(out, encoding="utf-8-sig", newline="") as fh:
        return [(r["id"], r["node_id"], r["score"], json.loads(r["evidence"])) for r in csv.DictReader(fh)]


def test_columnar_cleaning_is_clean_text() -> None:
    import polars as pl

    from chainatlas.ingest.values import clean_text
    from chainatlas.services.placement.firm_file import _WHITESPACE, _clean

    assert _WHITESPACE == "".join(ch for ch in map(chr, range(0x110000)) if ch.isspace())
    values = ["NaN", " None ", "\u3000动力\xa0电池\u3000", "N/A", "暂无", "—", "\x1f y\x1c", "", None, "nUll", "--",
              " 无 ", "\u2028车载镜头\u2029", "无锡", "-1"]
    got = pl.DataFrame({"v": values}, schema={"v": pl.String}).select(_clean(pl.col("v")).alias("v"))["v"].to_list()
    assert got == [clean_text(v) for v in values]


def test_fast_reader_rows_match_the_ingest_reader(tmp_path: Path) -> None:
    """A UTF-8 CSV with a title row, a blank line and an empty row: same firms, same "第N行" ids as ingest."""
    src = tmp_path / "firms.csv"
    src.write_text(
        "2024年经开区企业名单\n企业名称,主营产品,经营范围,行业代码\n某某汽车电子有限公司,动力电池:0.6,,C3670\n\n"
        ",,,\n\"某某,科技有限公司\",\"车载镜头\n激光雷达\",,汽车零部件及配件制造\n",
        encoding="utf-8",
    )
    frame = read_frame(src)
    assert frame["id"].to_list() == ["第3行", "第6行"]
    assert frame.row(1) == ("第6行", "某某,科技有限公司", "车载镜头\n激光雷达", "", "", "汽车零部件及配件制造")
    assert frame.row(0)[4] == "3670"


def test_a_row_with_text_only_in_columns_the_classifier_does_not_read_is_no_firm(tmp_path: Path) -> None:
    """The fast reader parses only the columns the classifier reads: a row with nothing but an address has nothing
    to place and is skipped like a row of empty cells (not counted); the rows after it keep their numbers."""
    src = tmp_path / "firms.csv"
    src.write_text("企业名称,注册地址,主营产品\n某某汽车电子有限公司,武汉市,动力电池\n,武汉市经开区,\n,,车载镜头\n",
                   encoding="utf-8")
    frame = read_frame(src)
    assert frame["id"].to_list() == ["第2行", "第4行"]
    assert frame["products"].to_list() == ["动力电池", "车载镜头"]


def test_texts_outside_the_nfkc_unstable_class_are_left_as_they_are_by_nfkc(chain) -> None:
    """The batch prefilter normalises only texts with a character NFKC may change into part of a chain word; every
    stable character has no decomposition and combines with nothing, so a text of them is its own NFKC form, and
    an inert full-width form becomes one ASCII character that, like itself, is in no chain word."""
    import re
    import unicodedata

    from chainatlas.engines.classify_batch import NFKC_STABLE

    stable = [chr(c) for c in (*range(0x80), 0x3001, 0x3002, *range(0x4E00, 0xA000))]
    assert all(re.fullmatch(f"[{NFKC_STABLE}]", ch) for ch in stable)
    assert all(unicodedata.decomposition(ch) == "" and not unicodedata.combining(ch) for ch in stable)
    assert all(unicodedata.normalize("NFKC", ch) == ch for ch in stable)
    batch = BatchClassifier(chain)
    unstable = re.compile(batch._unstable)
    words = "".join(w for w, *_ in batch.classifier.words)
    inert = [chr(c) for c in range(0xFF01, 0xFF5F) if not unstable.match(chr(c))]
    assert "（" in inert and "）" in inert and "Ｂ" not in inert and "－" not in inert  # AR-HUD has a hyphen
    for ch in inert:
        image = unicodedata.normalize("NFKC", ch)
        assert len(image) == 1 and ch not in words and image.lower() not in words
    assert not any(unstable.match(ch) for ch in stable)
    assert unstable.match("Ｂ") and unstable.match("\u3000") and unstable.match("Ⅱ")


def test_prefilter_is_the_nfkc_contains_any(chain) -> None:
    import polars as pl

    batch = BatchClassifier(chain)
    texts = ["ＢＭＳ主板", "bms", "ＳｉＣ功率器件", "sic", "饼干", "", None, "（武汉）动力电池有限公司", "动力电池",
             "车载摄像头\u3000模组", "ＡＲ－ＨＵＤ", "新能源汽车", "Ⅱ型驱动电机", "武汉某某科技有限公司"]
    values = pl.Series(texts, dtype=pl.String)
    expected = values.str.normalize("NFKC").str.contains_any(batch._positive, ascii_case_insensitive=True)
    assert batch._may_hit(values).to_list() == expected.fill_null(False).to_list()
    assert sum(batch._may_hit(values).to_list()) >= 6


def _messy_csv(path: Path, n: int) -> None:
    """A CSV as registries export it: CRLF, cells quoted for their commas, rows without id or USCC (so the id is
    the row number), blank lines and rows of empty cells, full-width and off-chain text."""
    import csv
    import random

    from chainatlas.services.demo import generate_enterprises

    generate_enterprises(n, seed=5, out=path)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    rng = random.Random(3)
    uscc = rows[0].index("统一社会信用代码")
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(rows[0])
        for row in rows[1:]:
            if rng.random() < 0.3:
                row[uscc] = ""
            if rng.random() < 0.05:
                row[1] = row[1] + ",（ＢＭＳ）"
            w.writerow(row)
            if rng.random() < 0.01:
                fh.write("\r\n" if rng.random() < 0.5 else "," * (len(row) - 1) + "\r\n")


def test_workers_reading_their_own_byte_ranges_write_the_one_process_file(tmp_path: Path) -> None:
    from chainatlas.services.placement import classify_file, start_part_workers, write_placements

    src = tmp_path / "firms.csv"
    _messy_csv(src, 3000)
    one = tmp_path / "one.csv"
    frame = read_frame(src)
    chain = load_chain("nev-icv")
    rows, firms = write_placements(one, BatchClassifier(chain, csv_evidence=True).classify_frame(frame))
    assert frame.height >= 3000 and rows > 500 and firms > 500
    assert sum(i.startswith("第") for i in frame["id"].to_list()) > 500  # ids from row numbers, after blank lines
    for parts in (2, 3):
        out = tmp_path / f"w{parts}.csv"
        with start_part_workers(src, chain.path, None, parts) as part_workers:
            done = classify_file(src, chain, out, parts, None, part_workers)
        assert (done.firms, done.placed, done.rows, done.processes) == (frame.height, firms, rows, parts)
        assert out.read_bytes() == one.read_bytes()
        assert all(w.process.poll() == 0 and w.process.stdout.closed for w in part_workers.workers)


def test_a_parts_length_is_known_before_it_is_written(tmp_path: Path) -> None:
    """A worker writes its part where the parts before it end, reckoned from their rows before they are written."""
    import io

    import polars as pl

    from chainatlas.services.placement.firm_file import _csv_rows, csv_bytes, write_rows

    result = pl.DataFrame({
        "id": ["A1", 'ACME "Ltd", 2', "第3行", "多行\n名称", ""], "node_id": ["bms"] * 5,
        "node_name": ["电池管理系统", "动力电池", "车载摄像头", "电驱, 电控", "bms"],
        "score_text": ["0.91", "1.0", "0.5", "0.7", "0.62"],
        "evidence": ['"[{""field"": ""name""}]"'] * 5,
    })
    for rows in (_csv_rows(result), _csv_rows(result.head(0))):
        for header in (True, False):
            written = io.BytesIO()
            write_rows(rows, written, header)
            assert csv_bytes(rows, header) == len(written.getvalue())
    assert csv_bytes(_csv_rows(result), header=False) > 100  # the rows were written, quoted where needed


def test_a_quoted_cell_across_a_cut_falls_back_to_one_reader(tmp_path: Path) -> None:
    from chainatlas.services.placement import classify_file, start_part_workers

    src = tmp_path / "firms.csv"
    lines = "\n".join(f"动力电池{i}；车载镜头" for i in range(2000))  # one cell over many lines, across the middle
    src.write_text(f'企业名称,主营产品\n某某科技有限公司,"{lines}"\n某某汽车电子有限公司,电池管理系统\n', encoding="utf-8")
    chain = load_chain("nev-icv")
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    result = CliRunner().invoke(app, ["classify", str(src), "--out", str(one), "--workers", "1"])
    assert result.exit_code == 0, result.output
    with start_part_workers(src, chain.path, None, 2) as part_workers:
        # read whole by this process (two firms: too few to deal out to worker processes)
        assert classify_file(src, chain, two, 2, None, part_workers).processes == 1
    assert two.read_bytes() == one.read_bytes() and "第3行" in one.read_text(encoding="utf-8-sig")
    assert all(w.process.returncode is not None for w in part_workers.workers)


def test_the_classify_command_starts_without_the_database_stack() -> None:
    code = ("import sys; from chainatlas.cli.main import app; app(['classify', '--help'], standalone_mode=False); "
            "print(sorted(m for m in ('sqlalchemy', 'alembic', 'openpyxl', 'fastapi') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().endswith("[]"), result.stdout


def test_distinct_rows_group_by_value_even_when_hashes_collide() -> None:
    """Rows are grouped by a hash of their values; a collision (forced here: every hash equal, or two different
    rows sharing one) must not merge different rows."""
    import polars as pl

    from chainatlas.engines.classify_batch import distinct_rows

    frame = pl.DataFrame({"text": ["动力电池", "车载镜头", "动力电池", "", "车载镜头", "动力电池"],
                          "code": ["3841", "3670", "3841", "", "3670", "3670"]})
    for hashes in (None, pl.Series([7] * 6, dtype=pl.UInt64), pl.Series([1, 2, 1, 3, 2, 3], dtype=pl.UInt64)):
        distinct, index = distinct_rows(frame, hashes)
        assert sorted(distinct.rows()) == [("", ""), ("动力电池", "3670"), ("动力电池", "3841"), ("车载镜头", "3670")]
        assert distinct[index].rows() == frame.rows()


def test_the_command_cuts_a_large_csv_for_its_workers_each_on_one_thread(generated_firms: Path, large_firms,
                                                                        tmp_path: Path) -> None:
    """The command as users run it (a fresh process, so its workers are forked): --workers 2 and 3 cut a 110 MB file
    (the 50,000 generated rows six times) in two and three byte ranges, each worker writes its part where the parts
    before it end, and the output is byte for byte the one-process file; polars runs one thread in the command's
    process, so --workers 1 uses one core. The 18 MB file alone is too small to be worth a second process."""
    large = large_firms(6)

    code = ("import sys; from chainatlas.cli.main import app; app(sys.argv[1:], standalone_mode=False); "
            "import polars; print(polars.thread_pool_size())")
    outputs = {}
    for workers in ("1", "2", "3"):
        out = tmp_path / f"w{workers}.csv"
        done = subprocess.run([sys.executable, "-c", code, "classify", str(large), "--out", str(out),
                               "--workers", workers], capture_output=True, text=True, check=True)
        assert f"{workers} 进程" in done.stderr and done.stdout.split() == ["1"], done.stderr
        outputs[workers] = out.read_bytes()
    assert outputs["3"] == outputs["2"] == outputs["1"] and len(outputs["1"]) > 6_000_000
    out = tmp_path / "small.csv"
    done = subprocess.run([sys.executable, "-c", code, "classify", str(generated_firms), "--out", str(out),
                           "--workers", "2"], capture_output=True, text=True, check=True)
    assert "1 进程" in done.stderr and out.read_bytes().startswith(outputs["1"][:100_000])


def test_workers_of_a_killed_command_end_on_their_own(large_firms, tmp_path: Path, processes) -> None:
    """The command killed outright (SIGKILL: no cleanup of its own) while its three forked workers work: each ends
    once it finds the command gone (a pipe to it closed), and none takes the output's name."""
    out = tmp_path / "out.csv"
    command, group = _at_work(large_firms(6), out, 3, processes)  # 110 MB: three byte ranges
    command.kill()
    command.communicate(timeout=60)  # its workers hold its stderr: it ends as they do
    assert _until(lambda: not group(), 60)
    assert not out.exists()  # only a finished output takes the output's name


def _at_work(large: Path, out: Path, workers: int, processes) -> tuple[subprocess.Popen, Callable[[], set[int]]]:
    """The classify command as users start it (a fresh process, so its workers are forked), in a process group of
    its own, once all its workers are there and half a second at work; and the group's live processes (zombies,
    ended but not yet waited for, aside)."""
    code = "import sys; from chainatlas.cli.main import app; app(sys.argv[1:])"
    command = subprocess.Popen([sys.executable, "-c", code, "classify", str(large), "--out", str(out),
                                "--workers", str(workers)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)

    def group() -> set[int]:
        return {p.pid for p in processes() if p.pgrp == command.pid and p.state != "Z"}

    _until(lambda: len(group()) >= workers, 60)
    time.sleep(0.5)  # loading polars, reading or placing
    assert len(group()) == workers
    return command, group


def _until(holds: Callable[[], bool], seconds: float) -> bool:
    """Whether `holds()` came true within `seconds`."""
    deadline = time.monotonic() + seconds
    while not holds():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_failing_worker_fails_the_command_and_leaves_nothing_behind(generated_firms: Path, tmp_path: Path) -> None:
    from chainatlas.services.placement import WorkerFailed, classify_file, start_part_workers

    chain = load_chain("nev-icv")
    out = tmp_path / "out.csv"
    out.write_text("an earlier output\n", encoding="utf-8")
    # the worker reads its range and reports, then cannot load its chain file
    with start_part_workers(generated_firms, str(tmp_path / "missing.yaml"), None, 2) as part_workers:
        with pytest.raises(WorkerFailed, match="挂链子进程失败"):
            classify_file(generated_firms, chain, out, 2, None, part_workers)
    assert out.read_text(encoding="utf-8") == "an earlier output\n" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    assert all(w.process.stdout.closed and w.process.stdin.closed for w in part_workers.workers)
    assert [w.process.returncode for w in part_workers.workers] == [1]


def test_ctrl_c_ends_the_command_and_its_workers_and_leaves_no_output(large_firms, tmp_path: Path,
                                                                      processes) -> None:
    """Ctrl+C (SIGINT to the terminal's process group) while the command and its forked worker are at work: the
    command exits with an error, no process of the group is left, and there is no output, whole or partial."""
    out = tmp_path / "out.csv"
    command, group = _at_work(large_firms(8), out, 2, processes)  # 146 MB: each process places for a few seconds
    os.killpg(command.pid, signal.SIGINT)
    _, err = command.communicate(timeout=60)
    assert command.returncode != 0, err
    assert _until(lambda: not group(), 10)
    assert sorted(p.name for p in tmp_path.iterdir()) == [], err


def test_workers_are_forked_only_from_a_single_threaded_process() -> None:
    """A fork copies only the calling thread: a process with any other thread, native ones (polars' pool) included,
    starts its workers afresh instead."""
    code = ("import threading, time; from chainatlas.services.placement.classify_workers import _single_threaded as alone; "
            "print(alone()); t = threading.Thread(target=time.sleep, args=(0.5,)); t.start(); print(alone()); "
            "t.join(); import polars as pl; pl.DataFrame({'a': [1, 2]}).sum(); print(alone())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False", "False"], done.stderr
