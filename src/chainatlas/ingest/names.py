"""Company-name normalisation: one spelling per firm for exact matching, and a "core" for fuzzy matching.

`norm` is what two spellings of the same registered name share (full/half width, （）vs (), blanks,
有限责任公司 ≡ 有限公司, case of Latin letters). `core` additionally drops the place prefix
(武汉市, 湖北), the place in brackets ((武汉)), the legal suffix and the branch part — it is only a
matching feature: 某某科技(武汉)有限公司 and 某某科技有限公司 are different legal persons.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from chainatlas.ingest.address import divisions

LEGAL_SUFFIXES = (
    "股份有限公司", "有限责任公司", "有限公司", "集团公司", "总公司", "公司", "合伙企业(有限合伙)", "(有限合伙)",
    "合伙企业", "有限合伙", "研究院", "研究所", "厂",
)
_EN_SUFFIXES = re.compile(
    r"\b(co|company|corp|corporation|inc|incorporated|ltd|limited|llc|plc|gmbh|ag|sa|group|holdings?|"
    r"stock|share|shares|joint)\b"
)
_BRANCH = re.compile(r"^(.+?(?:公司|厂))(.+?分公司|.+?分厂|.+?办事处|.+?营业部)$")
BRACKETED = re.compile(r"\(([^()]*)\)")
# compiled once: basic() and is_latin() run for every distinct name of a file (a million on a bulk load)
_BLANKS = re.compile(r"\s+")
_CJK_GAP = re.compile(r"(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
GENERIC_PLACES = {"中国", "中华", "国际", "亚洲", "全球", "华中", "华南", "华东", "华北", "西南", "西北", "东北"}


@dataclass(frozen=True)
class NameKey:
    norm: str  # exact-match key
    core: str  # fuzzy-match feature: no place, legal suffix or branch
    is_branch: bool
    parent_norm: str  # for a branch (分公司), the head office's norm
    latin: bool  # an English name


def basic(name: str) -> str:
    """Full width → half width, （）→ (), no blanks between Chinese characters, one space between words."""
    text = unicodedata.normalize("NFKC", name or "").strip()
    text = text.replace("【", "(").replace("】", ")").replace("[", "(").replace("]", ")")
    text = _BLANKS.sub(" ", text)
    return _CJK_GAP.sub("", text)


def is_latin(name: str) -> bool:
    return bool(name) and not _HAN.search(name)


def name_key(name: str) -> NameKey:
    text = basic(name)
    if is_latin(text):
        norm = _NOT_ALNUM.sub(" ", text.lower()).strip()
        core = _BLANKS.sub(" ", _EN_SUFFIXES.sub(" ", norm)).strip() or norm
        return NameKey(norm, core, False, "", True)
    norm = text.lower().replace("有限责任公司", "有限公司")
    branch = _BRANCH.match(norm)
    parent_norm = branch.group(1) if branch else ""
    core = parent_norm or norm
    core = legal_stem(BRACKETED.sub(lambda m: "" if is_place_name(m.group(1)) else m.group(0), core))
    core = _strip_place_prefix(core)
    return NameKey(norm, core, bool(branch), parent_norm, False)


def is_place_name(text: str) -> bool:
    return text in GENERIC_PLACES or divisions().prefix_length(text) == len(text) > 0


def _strip_place_prefix(core: str) -> str:
    """湖北省武汉市某某 → 某某, 红河哈尼族彝族自治州某某 → 某某; at least two characters are kept."""
    table = divisions()
    while True:
        length = table.prefix_length(core) or (2 if core[:2] in GENERIC_PLACES else 0)
        if not length or len(core) - length < 2:
            return core
        core = core[length:]


LEGAL_FORM = re.compile(r"(?i)(公司|厂|合伙\)?|企业|研究院|研究所|co\.?,? ?ltd\.?|inc\.?|limited|corporation)$")


def looks_like_full_name(name: str) -> bool:
    """A registered name ends with its legal form; a short name (平安银行, 宁德时代) does not."""
    return bool(LEGAL_FORM.search(basic(name)))


# A listed firm's short name carries its trading marks: ST/*ST (special treatment), an S for shares not yet
# reformed, and a share-class letter (万科A, 深康佳B). They are no part of the firm's name. (No look-arounds, so that
# polars runs the same patterns: name_place_columns.short_forms.)
TRADING_HEAD = re.compile(r"^(?:s\*st|\*st|sst|st|s)([一-鿿])")
TRADING_CLASS = re.compile(r"([一-鿿])[ab]$")


def short_form(name: str) -> str:
    """A short name (简称) as it can be read in a full name: its norm without trading marks (*ST万科A → 万科)."""
    return TRADING_CLASS.sub(r"\1", TRADING_HEAD.sub(r"\1", name_key(name).norm)) if name else ""


def legal_stem(norm: str) -> str:
    """A full name's norm without its legal form (云南白药集团股份有限公司 → 云南白药集团); the place stays, as a short
    name may begin with it."""
    for suffix in LEGAL_SUFFIXES:
        if norm.endswith(suffix) and len(norm) > len(suffix) + 1:
            return norm[: -len(suffix)]
    return norm


# An exchange's risk warning leads the listed short name (*ST恒立, ST长城): a public fact. Only before a Chinese
# character: STMicroelectronics and ST Engineering are names.
_EXCHANGE_WARNING = re.compile(r"^(\*ST|ST)(?=[\u4e00-\u9fff])")


def exchange_warning(*names: str | None) -> str | None:
    """The exchange warning (*ST, ST) leading the first of `names` that has one (a short name, then the name)."""
    return next((m.group(1) for text in names if text and (m := _EXCHANGE_WARNING.match(text))), None)
