"""scripts/derive_chain_words.py: product words for the chain's nodes from the product graph, with the path that
justifies each, through conservative filters; the shipped nev-icv.derived.csv is what it makes from the shared data."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

from chainatlas.domain.chain import builtin_chain_path, load_chain, parse_chain
from chainatlas.domain.chain_derived import derived_path, read_derived
from chainatlas.engines.classify import Classifier, Record

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("derive_chain_words", ROOT / "scripts" / "derive_chain_words.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _write(path: Path, header: str, rows: list[str]) -> None:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def test_each_rule_and_filter_on_a_small_hand_made_graph(script, tmp_path: Path) -> None:
    folder = tmp_path / "industry_chain"
    folder.mkdir()
    _write(folder / "ckg_product_product.csv", "from_product,relation,to_product", [
        "驱动桥,产品小类,贯通桥",          # a kind of a chassis product the keywords never name: kept, strong
        "汽车机油滤清器,上游材料,滤纸", "柴油滤清器,上游材料,滤纸",  # an input only for engine parts: weak (firms list 过滤纸)
        "活塞式压缩机,上游材料,气阀",      # one product made from it is an anecdote: dropped
        "制动件,产品小类,刹车片", "制动件,产品小类,制动鼓",  # a category whose kinds are chassis parts: weak
        "牛皮,产品小类,牛皮卡", "牛皮,产品小类,优质牛皮", "牛皮,产品小类,仿牛皮",  # one kind in three: dropped
        *(f"散热器,产品小类,{k}" for k in ("汽车散热器", "汽车空调散热器", "家用散热器", "铸铁散热器", "暖气片散热器")),
        # two vehicle kinds in five: most radiators heat homes: dropped
        "驱动桥,上游材料,铝锭", "电池壳,上游材料,铝锭",  # an input of two segments' products: dropped
        "客车,上游材料,转向机构", "货车,上游材料,转向机构",  # inputs of vehicles are component segments': dropped
        "三元前驱体,上游材料,原料", "磷酸铁锂,上游材料,原料",  # a generic word: dropped
        "驱动桥,产品小类,摩托车后桥",      # touches an exclusion word of chassis parts (摩托车): dropped
        "车桥,产品小类,无名桥",            # no listed firm names it: dropped
        "驱动桥,产品小类,通用桥",          # named by firms of five unrelated industries: dropped
        "驱动桥,产品小类,密封环", "汽车机油滤清器,上游材料,密封环", "柴油滤清器,上游材料,密封环",  # two segments: dropped
        "驱动桥,产品小类,汽车车桥",        # already placed by the chain's own words: dropped
        "红豆薏米仁汤,上游材料,冰糖",      # the graph's recipes reach nothing on the chain
    ])
    firms = [f"60000{i}.SH" for i in range(6)]
    _write(folder / "ckg_company_sw_industry.csv", "company_code,industry_code,industry_name,company_name,rel",
           [f"{code},{10 + i}0101,行业{i},公司{i},所属行业" for i, code in enumerate(firms)])
    _write(folder / "ckg_company_product.csv", "company_code,product,relation,weight", [
        f"{firms[0]},贯通桥,主营产品,0.5", f"{firms[1]},过滤纸,主营产品,0.3", f"{firms[0]},铝锭,主营产品,0.2",
        f"{firms[2]},转向机构,主营产品,0.4", f"{firms[2]},原料,主营产品,0.4", f"{firms[3]},摩托车后桥,主营产品,0.4",
        f"{firms[3]},密封环,主营产品,0.4", f"{firms[4]},冰糖,主营产品,0.9", f"{firms[4]},气阀,主营产品,0.1",
        f"{firms[0]},制动件,主营产品,0.3", f"{firms[5]},牛皮,主营产品,0.8", f"{firms[5]},散热器,主营产品,0.2",
        *(f"{code},通用桥,主营产品,0.1" for code in firms[1:]),
    ])
    terms = script.derive(tmp_path, builtin_chain_path("nev-icv"))
    assert [(t.node_id, t.term, t.strength, t.relation, t.path) for t in terms] == [
        ("chassis-parts", "制动件", "weak", "产品大类", "制动件 —产品小类→ 制动鼓、刹车片"),
        ("chassis-parts", "贯通桥", "strong", "产品小类", "驱动桥 —产品小类→ 贯通桥"),
        ("ice-powertrain", "滤纸", "weak", "专用上游材料", "柴油滤清器、汽车机油滤清器 —上游材料→ 滤纸"),
    ]
    out = tmp_path / "words.csv"
    script.write(terms, out)
    assert [(w.node_id, w.term, w.strong) for w in read_derived(out)] == [
        ("chassis-parts", "制动件", False), ("chassis-parts", "贯通桥", True), ("ice-powertrain", "滤纸", False)]


def test_the_shipped_file_is_what_the_generator_makes_from_the_shared_data(script, shared_data: Path) -> None:
    chain_path = builtin_chain_path("nev-icv")
    terms = script.derive(shared_data, chain_path)
    with open(derived_path(chain_path), encoding="utf-8") as fh:
        shipped = list(csv.DictReader(fh))
    assert [t.row() for t in terms] == shipped and shipped
    plain = parse_chain(chain_path.read_text(encoding="utf-8"), str(chain_path))
    alone = Classifier(plain, model=None)
    for t in terms:
        # a word the keywords never name, reached by a graph path that ends in it
        assert t.node_id in plain.nodes and t.term in t.path and "—" in t.path
        assert alone.classify(Record(id="1", products=[(t.term, None)])) == []
        assert t.term not in script.GENERIC
    # every derived word is on its node once the chain is loaded, with its path
    loaded = load_chain(chain_path)
    for t in terms:
        assert (t.term, t.path) in loaded.nodes[t.node_id].derived
