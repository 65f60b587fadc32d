"""The column-at-a-time name keys and places give exactly what the per-value functions give."""

from __future__ import annotations

import csv
from pathlib import Path

from chainatlas.ingest.address import divisions
from chainatlas.ingest.name_place_columns import address_rests, name_keys, nfkc_all, places, places_and_rests
from chainatlas.ingest.names import name_key
from chainatlas.services.demo import generate_enterprises

# Shapes the fast path must hand over, or get right: brackets of every width, branches, Latin names, blanks,
# place prefixes up to province + city + county, generic places, suffixes longer than what precedes them,
# compatibility characters NFKC changes beyond full width.
EDGE_NAMES = [
    "武汉市华创智能科技有限公司", "华创智能科技（武汉）有限公司", "湖北省武汉市华创智能科技股份有限公司",
    "红河哈尼族彝族自治州天能达医药有限公司", "中国第一汽车集团有限公司", "武汉钢铁有限公司", "武汉有限公司", "有限公司",
    "公司", "厂", "湖北省武汉市汉南区", "中国华中汽车有限责任公司", "东风汽车集团有限公司武汉分公司",
    "Yunnan Baiyao Group Co., Ltd.", " ABC 精密机械 （武汉） 有限公司 ", "ＡＢＣ精密机械（武汉）有限责任公司",
    "【武汉】某某科技有限公司", "某某科技[武汉]有限公司", "某某(集团)有限公司", "某某合伙企业(有限合伙)",
    "某某(有限合伙)", "北京市朝阳区某某研究院", "㈱某某株式会社", "某某ⅱ号科技有限公司", "ﾃｽﾄ科技有限公司",
    "某某科技有限公司营业部", "某某厂办事处", "吉林省吉林市某某有限公司", "某某", "",
]
EDGE_ADDRESSES = [
    "湖北省武汉市汉南区纱帽街道通航大道18号", "武汉市汉南区", "湖北武汉蔡甸区", "北京市朝阳区建国路1号", "朝阳区建国路",
    "湖北省武汉市武汉经济技术开发区车城大道88号", "广东省深圳市南山区科技园南区1号", "上海市浦东新区", "湖北省",
    "长安街1号", "吉林省吉林市船营区", "重庆市渝中区", "湖北 省 武汉 市", "ＡＢＣ路１号", "汉南区武汉市", "",
    "内蒙古自治区呼和浩特市新城区", "新疆维吾尔自治区乌鲁木齐市天山区", "武汉大道1号", "湖北省武汉市东西湖区",
]


def _generated(tmp_path: Path, n: int, seed: int) -> tuple[list[str], list[str]]:
    path = generate_enterprises(n, seed=seed, out=tmp_path / "e.csv").path
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    return [" ".join(r[0].split()) for r in rows], [r[2] for r in rows]


def test_name_keys_equal_name_key_value_by_value(tmp_path: Path) -> None:
    names, _ = _generated(tmp_path, 4000, seed=3)
    distinct = list(dict.fromkeys(EDGE_NAMES + names))
    keys = name_keys(distinct)
    got = list(zip(keys.norm, keys.core, keys.is_branch, keys.latin))
    want = [(k.norm, k.core, k.is_branch, k.latin) for k in map(name_key, distinct)]
    assert got == want


def test_places_equal_resolve_value_by_value(tmp_path: Path) -> None:
    _, addresses = _generated(tmp_path, 4000, seed=4)
    distinct = list(dict.fromkeys(EDGE_ADDRESSES + addresses))
    table = divisions()
    assert places(distinct) == [table.resolve(a) for a in distinct]


def test_address_rests_equal_split_value_by_value(tmp_path: Path) -> None:
    """What record linkage compares of an address: the part after the divisions, as Divisions.split cuts it
    (fast path, slow path, blank and full-width addresses alike)."""
    _, addresses = _generated(tmp_path, 4000, seed=5)
    distinct = list(dict.fromkeys(EDGE_ADDRESSES + addresses + ["", "  ", "湖北省武汉市蔡甸区 沌口街道 １２号"]))
    table = divisions()
    assert address_rests(distinct) == [table.split(a)[1] for a in distinct]
    assert any(rest for rest in address_rests(distinct))
    # one reading for both (the import's normalise step hands the rests on to its link step)
    assert places_and_rests(distinct) == ([table.resolve(a) for a in distinct], [table.split(a)[1] for a in distinct])


def test_nfkc_all_is_unicodedata_nfkc() -> None:
    import unicodedata

    texts = EDGE_NAMES + EDGE_ADDRESSES + ["Ａ\u0301", "e\u0301", "ｶﾞ", "①②", "\u3000空格", "ﬁ"]
    assert nfkc_all(texts) == [unicodedata.normalize("NFKC", t) for t in texts]
