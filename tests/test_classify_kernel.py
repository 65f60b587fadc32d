"""The placement kernel in use computes exactly what the Python engine computes: `Kernel.scan` is `Classifier._scan`
and `Kernel.place` is `Classifier.place` (scores bit for bit, evidence in the same order), on crafted texts,
random texts over the chain's own words, 50,000 generated registry rows, and a chain of more than 64 nodes.

The kernel is the compiled one where it was built, else the pure-Python one (engines/kernel.py);
CHAINATLAS_KERNEL=python runs these tests on the pure-Python one (scripts/test.sh does, after the suite)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from chainatlas.domain.chain import load_chain
from chainatlas.engines.classify import Classifier, effective_shares, parse_products
from chainatlas.engines.kernel import Kernel
from chainatlas.services.placement import read_frame

CRAFTED = [
    "", "、", "及和与或", "手机摄像头模组", "手机及车载摄像头模组", "车载摄像头模组，手机摄像头", "消费类锂电池", "动力锂电池",
    "光伏逆变器", "电机控制器", "家电电机", "新能源汽车驱动电机控制器", "ASIC芯片", "SiC MOSFET", "SiCMOSFET", "ｂｍｓ主板",
    "ＢＭＳ主板", "BMS", "xbms", "bms1", "改性ABS类", "AR-HUD", "乘用车齿轮", "汽车热交换器", "齿轮", "动力电池管理系统",
    "动力电池：0.8；储能", "新能源汽车\u3000高压线束", "车载镜头\n激光雷达", "激光雷达|毫米波雷达", "𠀀激光雷达𠀀", "Ⅱ型动力电池",
    "İ动力电池", "ｅｖ充电桩（直流）", "动力电池,电池管理系统;电机",
    # a negative context inside a longer word (三轮 in 三轮汽车, 手机 in 手机电池) still counts
    "三轮汽车后桥", "电动三轮车后桥", "手机电池保护板", "汽车后桥，三轮汽车",
]


def test_the_kernel_reads_text_as_the_engine_does(chain) -> None:
    """Characters the engine normalises one by one (ASCII, 　、。, CJK ideographs, full-width forms) map as NFKC then
    lower() map them; any other text is normalised whole."""
    import unicodedata

    from chainatlas.engines.classify import _CHARWISE

    kernel = Kernel(Classifier(chain))
    for a, b in _CHARWISE:
        for ch in map(chr, range(a, b + 1)):
            assert kernel.normalised(ch) == unicodedata.normalize("NFKC", ch).lower(), hex(ord(ch))
    for text in ("Ⅱ型ＢＭＳ", "İstanbul", "ＳｉＣ①", "𠀀车载"):
        assert kernel.normalised(text) == unicodedata.normalize("NFKC", text).lower()


@pytest.fixture(scope="module")
def chain():
    return load_chain("nev-icv")


def firm_inputs(clf: Classifier, name: str, products: str, scope: str, code: str, industry: str,
                supplied: tuple[str, ...] = ()):
    """What `Classifier.place` and `Kernel.place` take for one firm (supplied: the components of its supply
    relations), from the Python engine's own scan."""
    lines = parse_products(products)
    shares = effective_shares(lines)
    found = tuple(clf._scan(p) for p, _ in lines)
    name_hits, scope_hits, industry_hits = (clf._scan(t) if t else () for t in (name, scope, industry))
    parts = (
        clf.field_parts(0, (name_hits,) if name else (), shares), clf.field_parts(1, found, shares),
        clf.field_parts(2, (scope_hits,) if scope else (), shares),
        clf.field_parts(3, (industry_hits,) if industry else (), shares),
        clf.field_parts(4, [clf._scan(c) for c in supplied], shares),
    )
    key = clf.prior_key(code, industry)
    return parts, shares, key, (name_hits, found, scope_hits, industry_hits, tuple(shares), clf.priors(key),
                                tuple(clf._scan(c) for c in supplied))


def random_texts(clf: Classifier, n: int, seed: int) -> list[str]:
    """Texts made of the chain's words glued together, with separators, Latin letters, full-width forms and
    filler: overlapping, nested and excluded words in one phrase, which is where the rules get subtle."""
    rng = random.Random(seed)
    words = clf.all_words()
    pieces = ["、", "，", "及", "和", "；", " ", "a", "1", "Ｘ", "\u3000", "汽车", "用", "的", "手机", "(", "x"]
    texts = []
    for _ in range(n):
        parts = [rng.choice(words) if rng.random() < 0.6 else rng.choice(pieces) for _ in range(rng.randint(1, 8))]
        text = "".join(parts)
        if rng.random() < 0.2:  # full-width Latin letters and digits
            text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and rng.random() < 0.5 else c for c in text)
        if rng.random() < 0.1:
            text = text.upper()
        texts.append(text)
    return texts


def test_scan_is_the_engines_scan_on_crafted_and_random_texts(chain) -> None:
    clf = Classifier(chain)
    kernel = Kernel(clf)
    texts = CRAFTED + random_texts(clf, 30_000, seed=1)
    expected = [clf._scan(t) for t in texts]
    assert sum(1 for hits in expected if hits) > 20_000  # the texts hit, with weak and strong words
    assert any(h[2] == 0 for hits in expected for h in hits)
    assert [kernel.scan(t) for t in texts] == expected
    # interned ids: equal hit lists share an id, different ones do not; id 0 is no hit
    ids = kernel.scan_ids(texts)
    first_id: dict[tuple, int] = {}
    assert all(first_id.setdefault(hits, i) == i for hits, i in zip(expected, ids))
    assert len(set(first_id.values())) == len(first_id) and first_id.get((), 0) == 0
    strong = kernel.strong_flags()
    assert all(strong[i] == bool(hits and hits[0][2]) for hits, i in zip(expected, ids))


def test_scan_and_place_are_the_engines_on_generated_firms(chain, generated_firms: Path) -> None:
    clf = Classifier(chain)
    kernel = Kernel(clf)
    rows = list(read_frame(generated_firms).select("name", "products", "scope", "industry_code", "industry").iter_rows())
    texts = sorted({t for row in rows for t in (row[0], row[2], row[4])} | {
        p for row in rows for p, _ in parse_products(row[1])})
    assert [kernel.scan(t) for t in texts] == [clf._scan(t) for t in texts]
    placed = ties = prior_only = 0
    # stock industries listed on nodes (priors that let weak words count), beside the generator's industry texts
    stock = ["汽车配件", "底盘与发动机系统 汽车配件", "锂", "电池化学品", "汽车电子电气系统"]
    for k, (name, products, scope, code, industry) in enumerate(rows):
        industry = stock[k % len(stock)] if k % 3 == 0 else industry
        # every fourth firm supplies its scope's phrases to a customer (relation evidence)
        supplied = tuple(scope.split("、")[:3]) if k % 4 == 1 else ()
        parts, shares, key, kernel_args = firm_inputs(clf, name, products, scope, code, industry, supplied)
        expected = clf.place(parts, shares, key)
        assert kernel.place(*kernel_args) == expected, (name, products, scope, code)
        placed += bool(expected)
        for _, _, _, evidence in expected:
            strong = {h[3] for h in evidence if h[4]}
            if not strong:  # weak words with a prior: placed on the segment
                prior_only += 1
                continue
            deepest = max(clf.depth[n] for n in strong)
            ties += sum(clf.depth[n] == deepest for n in strong) > 1
    assert placed > 5_000
    assert ties > 0  # the tie between equally deep nodes, which the kernel hands back to the engine, occurs
    assert prior_only > 0  # and placements on weak words a prior corroborates


def test_a_chain_of_more_than_64_nodes(tmp_path: Path) -> None:
    """Node sets are bitsets of 64-bit words: a chain with 90 nodes needs two words per set."""
    rng = random.Random(7)
    alphabet = "电机池控器车载雷达芯片材料模组"
    stages = ("upstream", "midstream", "downstream")
    lines = ["id: big", "name_zh: 大链", "name_en: Big chain", "stages:"]
    lines += [f"  - {{id: {s}, name_zh: 环节{i}}}" for i, s in enumerate(stages)]
    lines.append("nodes:")
    used: set[str] = set()

    def words(k: int, size: int) -> str:
        out = []
        while len(out) < k:
            w = "".join(rng.choice(alphabet) for _ in range(size))
            if w not in used:
                used.add(w)
                out.append(w)
        return ", ".join(out)

    for i in range(45):
        stage = stages[i % 3]
        supplies = f"[s{i + 1}]" if i % 3 != 2 and i + 1 < 45 else "[]"
        lines += [f"  - id: s{i}", f"    stage: {stage}", f"    name_zh: 段{i}", f"    keywords: [{words(3, 3)}]",
                  f"    weak_keywords: [{words(2, 2)}]", f"    exclude: [{words(1, 4)}]",
                  f'    gbt4754: ["{3600 + i}"]', f"    supplies: {supplies}",
                  f"  - id: s{i}-sub", f"    parent: s{i}", f"    stage: {stage}", f"    name_zh: 子{i}",
                  f"    keywords: [{words(2, 4)}]"]
    path = tmp_path / "big.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    clf = Classifier(load_chain(str(path)))
    assert len(clf.node_ids) == 90
    kernel = Kernel(clf)
    texts = random_texts(clf, 5_000, seed=3)
    assert [kernel.scan(t) for t in texts] == [clf._scan(t) for t in texts]
    assert any(n >= 64 for hits in map(clf._scan, texts) for _, n, _ in hits)
    placed = 0
    for k in range(0, len(texts) - 3, 3):
        parts, shares, key, kernel_args = firm_inputs(clf, texts[k], "、".join(texts[k + 1:k + 3]), texts[k + 2],
                                                      str(3600 + k % 45), "")
        expected = clf.place(parts, shares, key)
        assert kernel.place(*kernel_args) == expected
        placed += bool(expected)
    assert placed > 100


# Product cells in every share spelling `products._SHARE` reads, and the ones it must not: whitespace of several
# kinds around shares, digits of other scripts (\d), a share mark with no number, characters beyond the BMP.
PRODUCT_CELLS = [
    "动力电池:0.82；储能系统(6%)、BMS,DC/DC变换器 30%,4680电池", "储能系统 (6 %)", "电机：82%|电控:0.001||",
    " ；、 ", "", "电芯 12", "电芯 12%", "驱动电机（35%）\n电控 (1.5%)", "正极材料:-0.07;负极材料:1.5", "\u3000隔膜\u3000：0.2",
    "线束\x1c:0.3", "连接器:０.５", "电池:٣٤%", "电池 ٣%", "：5", ":5", "a:1.5.", "电池 : 3 %", "x(1.2 %  )", "电池(5%)x",
    "电池:1e5", "𠀀电池:0.5、𠀀激光雷达", "Ⅱ型动力电池:50%", "ＢＭＳ主板（20％）", "电池\xa0\xa012%", "电池:0.5%%",
    "电池(（5%)）", "电池::0.5", "BMS 1.5.2%", "电池\t:\t7", "é电机:3", "车载镜头 、激光雷达 ,毫米波雷达:0.4",
    "分部间抵销:-0.000008、动力电池业务抵销：-4.1%", "电池(-5%)", "电池 -5%", "电池:- 5", "电池:--5", "电池-5%", "电池:-٣",
]


def product_cells(clf: Classifier, n: int, seed: int) -> list[str]:
    """Cells of the chain's words with share spellings, separators and whitespace glued at random."""
    rng = random.Random(seed)
    words = clf.all_words()
    pieces = [":0.82", "(6%)", " 30%", "；", "、", ",", " ", "：", "%", "（", "）", "0.5", "\n", "|", "\u3000", "１２", "(",
              ")", "．", ".", "7", "-", ":-0.04"]
    return ["".join(rng.choice(words) if rng.random() < 0.4 else rng.choice(pieces) for _ in range(rng.randint(0, 10)))
            for _ in range(n)]


def test_scan_column_is_scan_ids_of_its_cells(chain) -> None:
    """A polars column scanned in place gives each cell the hits `scan` gives its text, in chunked and sliced
    columns too; a null cell reads as ""."""
    import polars as pl

    clf = Classifier(chain)
    kernel = Kernel(clf)
    texts = CRAFTED + PRODUCT_CELLS + random_texts(clf, 5_000, seed=5) + ["é电机", "ａｂ", "x" * 40]
    column = pl.concat([pl.Series(texts[:700]), pl.Series([None, *texts[700:]])], rechunk=False)
    assert column.n_chunks() == 2
    expected = [clf._scan(t or "") for t in column.to_list()]
    assert [kernel.hit_list(h) for h in kernel.scan_column(column)] == expected
    assert [kernel.hit_list(h) for h in kernel.scan_column(column.slice(650, 100))] == expected[650:750]


def test_scan_column_leaves_to_the_caller_the_texts_the_clean_up_may_change(chain) -> None:
    """With `short`, a text that ingest's clean-up may change (`may_change`: a NUL, U+3000 or U+00A0 in it, white
    space at either end, at most `short` bytes) gets -1, every other one the hits of its text; and the clean-up
    changes no text but those."""
    import polars as pl

    from chainatlas.engines.placement_kernel_py import may_change
    from chainatlas.ingest.columnar import BLANK_BYTES
    from chainatlas.ingest.values import clean_text

    clf = Classifier(chain)
    kernel = Kernel(clf)
    rng = random.Random(7)
    odd = [" ", "\u3000", "\xa0", "\x00", "\u2028", "\t", "\n", "\x1c", "无", "null", "N/A", "#DIV/0!", "é", "Ⅱ", "𠀀"]
    texts = CRAFTED + random_texts(clf, 3_000, seed=9)
    texts += [rng.choice(odd) + t if rng.random() < 0.5 else t + rng.choice(odd) for t in texts[:2_000]]
    texts += [t[:k] + rng.choice(odd) + t[k:] for t in texts[:1_000] for k in [rng.randint(0, len(t))]]
    texts += ["", "无", "暂无", "#SPILL!", "abcdefg", "abcdefgh", "电机", "电机a", " 电机", "电机\u3000"]
    column = pl.Series([*texts, None])
    got = kernel.scan_column(column, BLANK_BYTES)
    for text, hid in zip([*texts, ""], got):
        assert (hid < 0) == may_change(text, BLANK_BYTES), repr(text)
        assert hid < 0 or kernel.hit_list(hid) == clf._scan(text), repr(text)
        assert may_change(text, BLANK_BYTES) or clean_text(text) == text, repr(text)
    assert sum(h < 0 for h in got) > 2_000


def test_product_cells_read_and_scanned_as_the_engine_reads_them(chain) -> None:
    """`product_lists` is `parse_products` of each cell with each product's scan and `effective_shares` (None for a
    cell without a hit); `product_flags` says whether some line has a hit (1) or a strong hit (3)."""
    import polars as pl

    clf = Classifier(chain)
    kernel = Kernel(clf)
    cells = PRODUCT_CELLS + product_cells(clf, 5_000, seed=11)
    column = pl.Series([*cells, None])
    parsed = [parse_products(c) for c in cells] + [[]]
    assert sum(1 for lines in parsed for _, share in lines if share is not None) > 400
    found = [tuple(clf._scan(p) for p, _ in lines) for lines in parsed]
    flags = [max((3 if hits[0][2] else 1 for hits in lines if hits), default=0) for lines in found]
    assert set(flags) == {0, 1, 3}
    assert kernel.product_flags(column) == flags
    read = kernel.product_lists(column)
    assert [listed is None for listed in read] == [not flag for flag in flags]
    for listed, lines, hits, flag in zip(read, parsed, found, flags):
        if listed is not None:
            assert listed[2] == tuple(lines)
            assert tuple(map(kernel.hit_list, listed[0])) == hits
            assert listed[1] == tuple(effective_shares(lines))  # bit for bit
            assert listed[3] == (flag == 3)
    # for the rules alone: the same lists, a line without a hit None (evidence never names one)
    named = kernel.product_lists(column, named_only=True)
    assert sum(1 for listed in named if listed is not None and None in listed[2]) > 100
    for listed, full in zip(named, read):
        assert (listed is None) == (full is None)
        if listed is not None:
            assert listed[2] == tuple(line if h else None for line, h in zip(full[2], full[0]))
            assert (listed[0], listed[1], listed[3]) == (full[0], full[1], full[3])
