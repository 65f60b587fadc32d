"""Company names (width, brackets, legal suffixes, branches, place prefixes) and addresses → divisions → zone."""

from __future__ import annotations

import pytest

from chainatlas.ingest.address import Place, ZoneSpec, divisions, match_zone, place_from_division_code
from chainatlas.ingest.names import looks_like_full_name, name_key


def test_spellings_of_one_registered_name_share_a_key() -> None:
    keys = {name_key(n).norm for n in ("ＡＢＣ精密机械（武汉）有限责任公司", "ABC精密机械(武汉)有限公司",
                                       " ABC 精密机械 （武汉） 有限公司 ")}
    assert keys == {"abc精密机械(武汉)有限公司"}


@pytest.mark.parametrize("name,core", [
    ("武汉市华创智能科技有限公司", "华创智能科技"),
    ("华创智能科技（武汉）有限公司", "华创智能科技"),
    ("湖北省武汉市华创智能科技股份有限公司", "华创智能科技"),
    ("红河哈尼族彝族自治州天能达医药有限公司", "天能达医药"),
    ("中国第一汽车集团有限公司", "第一汽车集团"),
    ("武汉钢铁有限公司", "钢铁"),
    ("Yunnan Baiyao Group Co., Ltd.", "yunnan baiyao"),
])
def test_core_drops_place_and_legal_form(name: str, core: str) -> None:
    assert name_key(name).core == core


def test_branch_keeps_its_head_office() -> None:
    key = name_key("东风汽车集团有限公司武汉分公司")
    assert key.is_branch and key.parent_norm == "东风汽车集团有限公司" and key.core == "东风汽车集团"
    assert not name_key("东风汽车集团有限公司").is_branch


def test_full_and_short_names() -> None:
    assert looks_like_full_name("平安银行股份有限公司") and not looks_like_full_name("平安银行")
    assert looks_like_full_name("Ping An Bank Co., Ltd.")


@pytest.mark.parametrize("address,place,rest", [
    ("湖北省武汉市汉南区纱帽街道通航大道18号", ("42", "4201", "420113"), "纱帽街道通航大道18号"),
    ("武汉经济技术开发区车城大道1号", ("42", "4201", ""), "经济技术开发区车城大道1号"),
    ("北京市朝阳区建国路", ("11", "1101", "110105"), "建国路"),
    ("吉林省长春市朝阳区", ("22", "2201", "220104"), ""),
    ("朝阳区建国路", ("", "", ""), "朝阳区建国路"),  # two 朝阳区 in China and nothing to choose
    ("武汉市经开区（汉南区）纱帽街", ("42", "4201", "420113"), ")纱帽街"),
    ("广东省佛山市顺德区", ("44", "4406", "440606"), ""),
    ("陕西省西安市长安区", ("61", "6101", "610116"), ""),
])
def test_addresses_to_division_codes(address: str, place: tuple[str, str, str], rest: str) -> None:
    got, remainder = divisions().split(address)
    assert (got.province_code, got.city_code, got.district_code) == place
    assert remainder == rest


def test_uscc_division_code_as_a_fallback() -> None:
    assert place_from_division_code("420113") == Place("42", "4201", "420113")
    assert place_from_division_code("110000") == Place("11", "1101", "")
    assert place_from_division_code("999999") == Place()


SPEC = ZoneSpec("wuhan-edz", "4201", county_codes={"420113"}, street_names={"沌口街道": "420114070", "沌口": "420114070"},
                street_counties={"420114"}, park_keywords=[("智能网联和电动汽车产业园", "icv-ev-park"), ("软件园", "sw-park")],
                address_keywords=["经开区", "经济技术开发区", "车城大道"])


@pytest.mark.parametrize("address,zone,park,street", [
    ("武汉市汉南区纱帽街道", "wuhan-edz", None, ""),  # a member county
    ("武汉市蔡甸区沌口街道东风大道10号", "wuhan-edz", None, "420114070"),  # a member street in 蔡甸区
    ("武汉市蔡甸区奓山街道", None, None, ""),  # the rest of 蔡甸区 is not the zone
    ("武汉经济技术开发区车城大道1号", "wuhan-edz", None, ""),  # address keyword
    ("湖北省武汉市智能网联和电动汽车产业园5号楼", "wuhan-edz", "icv-ev-park", ""),  # a specific park name
    ("武汉市东湖高新区光谷软件园", None, None, ""),  # a generic park word alone does not place a firm
    ("武汉经开区智能汽车软件园", "wuhan-edz", "sw-park", ""),  # …but picks the park once the zone is known
    ("上海市浦东新区车城大道1号", None, None, ""),  # another city
])
def test_zone_by_county_street_park_and_keywords(address: str, zone: str | None, park: str | None, street: str) -> None:
    hit = match_zone(address, divisions().resolve(address), [SPEC])
    assert (hit.zone_id if hit else None, hit.park_id if hit else None, hit.street_code if hit else "") == (zone, park, street)
