"""Placement engine: put firms on chain nodes from their name, main products, business scope and industry, and
the components they supply to named customers (stored supply relations).

Driven only by the chain file. One Aho-Corasick automaton holds every keyword, weak keyword and exclusion word
of the chain, so each phrase is scanned once (in C), keeping maximal matches; phrases recur across firms and
are scanned once per process. This module defines the rules and places single firms (services, web); batches
run them compiled (placement_kernel.pyx through classify_batch.py), bit for bit the same.

How evidence becomes a placement (why each rule exists):
- Text is cut into *phrases* at punctuation and at the conjunctions 及/和/与/或, because a negative context
  (手机摄像头, 光伏逆变器) or a modifier only speaks for its own phrase: "手机及车载摄像头" keeps 车载摄像头.
- A word inside a longer matched word does not count: "电机" inside "驱动电机" is the motor, not any motor.
- Head rule: in a Chinese compound the last noun is the thing made ("新能源汽车高压线束" is a harness, not a
  car), so within one phrase only the hits of the node that ends last count.
- An exclusion word of a node (inherited by its sub-nodes) cancels that node's hits in the same phrase, also where
  it sits inside a longer matched word (三轮 inside 三轮汽车 keeps "三轮汽车后桥" off the chassis).
- Weak keywords count only in a segment with a strong word of the firm (in any field, a placeholder line too)
  or a prior (GB/T code, stock industry): "电机" is a drive motor only for a firm something else ties to it.
- A firm is placed on every segment it makes something for: a strong word in a product line with a real
  revenue share places it even at 3 % of revenue (the share says how strongly, not whether: see
  `effective_shares`). A line with a placeholder share (≤ 0.1 %, 0.000, negative: annual-report extracts put
  0.001 on minor lines) never places a firm by itself; a list where no line has a real share counts as shares
  unknown, each line a listed main product. The primary placement is the strongest.
- A GB/T 4754 code or a stock industry (SW, Tushare) listed on a node adds a prior, but never places a firm on
  its own: it corroborates the firm's words (and lets its weak words count there). An industry name holding an
  exclusion word of a segment (农用机械 for engines) leaves that segment without a prior.
- A generic head word qualified by another chain word ("乘用车齿轮") counts as strong, when the head word names
  one segment only (汽车零部件 names three: qualified or not, it stays weak).
- A firm placed on a supplier segment at least as strongly as on the segment it supplies is a supplier: the
  customer segment named in its product lines ("乘用车", "新能源汽车") is context, not a placement.
- A supplied component (a stored relation: the firm supplies 盘式制动器 to 比亚迪) is evidence of its own field,
  like a product line the firm makes; a customer whose name names vehicles qualifies a generic component.
- Fallback for generic lines (only where the chain file declares `generic_fallback`): a firm the rules place
  nowhere whose product line at a real revenue share names only a generic word (汽车零部件 30 %, 汽配, a bare market
  line such as 汽车类) is a firm of the chain all the same, for 招商 a lead to check rather than a miss: it is placed
  on the declared node its other evidence favours (weak words, priors), else on the declared default, with evidence
  that says the node is inferred (`GENERIC_NOTE`) and a score below THRESHOLD, so below any placement of the rules.
- Sub-node evidence rolls up to its segment; the placement is reported on the most specific node the
  evidence supports. A firm may be placed on several segments; below the threshold it is placed nowhere.
"""

from __future__ import annotations

import math
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import ahocorasick

from chainatlas import config
from chainatlas.domain.chain import STAGE_IDS, Chain
from chainatlas.engines.placement_model import (
    ChainTerms,
    Featurizer,
    FirmView,
    PlacementModel,
    decide,
    load_for_chain,
    model_path,
    rules_decide,
    stale,
)
from chainatlas.domain.products import parse_products  # noqa: F401  (part of the engine's API: how it reads a cell)

FIELDS = ("name", "products", "scope", "industry", "supplied")
# How much a full-strength hit in each field is worth; products are what a firm makes, the scope is a wish list.
# Supplied: a component the firm supplies to a named customer (a stored supply relation) is a product it makes.
FIELD_WEIGHT = {"name": 0.8, "products": 2.0, "scope": 0.6, "industry": 0.8, "supplied": 1.0}
# Caps on the summed hit strength per field, so ten scope words do not outweigh one main product.
FIELD_CAP = {"name": 1.0, "products": 4.0, "scope": 2.0, "industry": 1.0, "supplied": 2.0}
STRONG, WEAK = 1.0, 0.35
PRIOR_4, PRIOR_3 = 0.4, 0.2  # GB/T 4754 class match / group (3-digit) match
PRIOR_INDUSTRY = 0.4  # the firm's stock industry (SW, Tushare: 底盘与发动机系统, 汽车配件) is listed on the node
PRIOR_CAP = 0.6  # priors of several sources (code, industries) agreeing on a segment add up to this
PRIOR_KEY_SEP = "\x1f"  # between the GB/T code and the industry text in a prior key (`Classifier.prior_key`)
THRESHOLD = 1.0  # a segment needs at least this score to be placed
FULL_SHARE = 0.4  # product lines matching a node that add up to this (scoring) share count in full
# How a product line's revenue share weighs (`effective_shares`). A line with a real share s weighs
# SHARE_FLOOR + (1 - SHARE_FLOOR) * s: a strong word in it alone reaches THRESHOLD however small s is, and a
# larger line weighs more. A line without a share weighs UNKNOWN_SHARE_ALONE when no line of the firm has a real
# share (a plain list of main products), SHARE_FLOOR beside lines with shares; a placeholder line
# PLACEHOLDER_SHARE, too little to place a firm by itself.
PLACEHOLDER = 0.001  # a share at or below this (0.001, 0.000, negative) is an extract's placeholder
SHARE_FLOOR = THRESHOLD / FIELD_WEIGHT["products"] * FULL_SHARE
UNKNOWN_SHARE_ALONE, PLACEHOLDER_SHARE = 0.25, 0.005
# A fallback placement (generic lines) scores FALLBACK_WEIGHT × its evidence (the generic lines weighed as weak
# words, the node's other words and prior), that evidence counted up to THRESHOLD: at most half the score of any
# placement of the rules, and more for a larger or corroborated line.
FALLBACK_WEIGHT = 0.5
GENERIC_NOTE = "泛称推断，环节待核实"  # said by a fallback placement's generic line (the node is inferred, not read)

_PRODUCTS_WEIGHT, _PRODUCTS_CAP = FIELD_WEIGHT["products"], FIELD_CAP["products"]
_FIELD_WEIGHT_CAP = tuple((FIELD_WEIGHT[f], FIELD_CAP[f]) for f in FIELDS)
SUPPLIED = FIELDS.index("supplied")

PHRASE_SEPARATORS = ("、", "，", ",", "；", ";", "。", "：", ":", "|", "\n", "及", "和", "与", "或")
_STRENGTH = operator.itemgetter(2)  # of a scanned hit (word, node, strong)
_HIT_STRENGTH = operator.itemgetter(4)  # of a `Hit`
_SEPARATOR = re.compile("|".join(map(re.escape, PHRASE_SEPARATORS)))
# Characters that NFKC and lower() map one by one, each to one character that combines with nothing: ASCII, the
# ideographic space and 、。, the CJK Unified Ideographs, the full-width forms of ASCII (tests check this). A text of
# them is normalised character by character, so it can be cut into phrases before it is normalised.
_CHARWISE = ((0x00, 0x7F), (0x3000, 0x3002), (0x4E00, 0x9FFF), (0xFF01, 0xFF5E))
_NOT_CHARWISE = re.compile("[^" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in _CHARWISE) + "]")
# Among them, the characters that read as a phrase separator once normalised (，and ,; ｜ and |). A CJK Unified
# Ideograph is its own NFKC form and has no case (tests check both), so of that block only the separators themselves
# are looked at: normalising all 20,992 of them cost every process ≈ 8 ms of its start.
_RAW_SEPARATOR = re.compile("[" + re.escape("".join(
    ch for a, b in _CHARWISE
    for ch in (map(chr, range(a, b + 1)) if a != 0x4E00 else sorted(c for c in PHRASE_SEPARATORS if a <= ord(c) <= b))
    if unicodedata.normalize("NFKC", ch).lower() in PHRASE_SEPARATORS
)) + "]")


@dataclass(slots=True)
class Record:
    """One firm to place.

    products: (product, revenue share 0..1 or None when unknown); industry_code: GB/T 4754 digits (a prior);
    industry: industry name as text (matched like the other fields). A non-numeric industry_code counts as text.
    supplied: (component, customer name) of each supply relation of the firm as supplier ("盘式制动器", "比亚迪股份
    有限公司"): the components are matched like product lines and the evidence names the customer.
    """

    id: str
    name: str = ""
    products: Sequence[tuple[str, float | None]] = ()
    scope: str = ""
    industry_code: str = ""
    industry: str = ""
    supplied: Sequence[tuple[str, str]] = ()


@dataclass
class Placement:
    id: str
    node_id: str
    node_name: str
    score: float  # how strongly the rules place the firm here; a firm's placements come strongest first
    confidence: float
    # [{"field", "word", "kind", "node"[, "product", "share" | "customer"][, "source": "derived", "via": graph path]}]
    # (see `Classifier.evidence_entry`)
    evidence: list[dict] = field(default_factory=list)
    share: float | None = None  # strength: the firm's revenue share in the product lines behind it; None = unknown


def placement_share(evidence: Sequence[dict]) -> float | None:
    """A placement's strength from its evidence: the revenue shares given for the distinct product lines behind it,
    added (at most 1.0); None when no line behind it has a real share (shares unknown, or other evidence only)."""
    shares: dict[str, float] = {}
    for e in evidence:
        share = e.get("share")
        if e.get("field") == "products" and real_share(share):
            shares.setdefault(e["product"], share)
    return round(min(1.0, sum(shares.values())), 4) if shares else None




def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def real_share(share: float | None) -> bool:
    """A revenue share the firm reported: a number above the placeholder (NaN counts as no share)."""
    return share is not None and not math.isnan(share) and share > PLACEHOLDER


def _no_share(share: float | None) -> bool:
    return share is None or math.isnan(share)


def effective_shares(products: Sequence[tuple[str, float | None]]) -> list[float]:
    """How much each product line weighs in the products term (see SHARE_FLOOR and the constants beside it)."""
    shares = [s for _, s in products]
    if not any(map(real_share, shares)):  # no real share anywhere: every line is a listed main product
        return [UNKNOWN_SHARE_ALONE] * len(shares)
    return [SHARE_FLOOR + (1.0 - SHARE_FLOOR) * float(s) if real_share(s)  # type: ignore[arg-type]
            else SHARE_FLOOR if _no_share(s) else PLACEHOLDER_SHARE for s in shares]


Hit = tuple[int, int, int, int, int]  # (field, product line, word index, node index, strong 1/0)


class Part(NamedTuple):
    """One field's hits on one segment (or node), scored as the rules score a field.

    Products count once per product line (its best word) weighted by revenue share, as a share of FULL_SHARE;
    other fields count distinct words. Each field's sum is weighted and capped: that is its term of the segment
    score, with strong words only (`strong`) and with strong and weak words (`all`); 0.0 when nothing counts.
    """

    hits: tuple[Hit, ...]  # in hit order
    strong: float
    all: float
    any_weak: bool  # a weak word adds to `all`
    strong_hit: bool  # some hit is strong


def _part(fld: int, hits: Sequence[Hit], shares: Sequence[float]) -> Part:
    if fld == 1:
        strong_items: dict[int, float] = {}
        all_items: dict[int, float] = {}
        any_weak = False
        for _, item, _, _, strong in hits:
            if strong:
                strong_items[item] = STRONG
                all_items[item] = STRONG
            elif item not in all_items:
                all_items[item] = WEAK
                any_weak = True
        s = _PRODUCTS_WEIGHT * min(_PRODUCTS_CAP, sum(v * shares[i] for i, v in strong_items.items()) / FULL_SHARE
                                   ) if strong_items else 0.0
        # Without a weak line, both sums run over the same values in the same order.
        a = _PRODUCTS_WEIGHT * min(_PRODUCTS_CAP, sum(v * shares[i] for i, v in all_items.items()) / FULL_SHARE
                                   ) if any_weak else s
        return Part(tuple(hits), s, a, any_weak, bool(strong_items))
    seen: set[int] = set()
    s = a = 0.0
    any_weak = strong_hit = False
    for _, _, wi, _, strong in hits:
        if strong:
            strong_hit = True
        if wi not in seen:
            seen.add(wi)
            if strong:
                a += STRONG
                s += STRONG
            else:
                a += WEAK
                any_weak = True
    weight, cap = _FIELD_WEIGHT_CAP[fld]
    return Part(tuple(hits), weight * min(cap, s) if s else 0.0, weight * min(cap, a) if a else 0.0, any_weak,
                strong_hit)


_NO_PARTS: tuple[Part | None, ...] = (None,) * len(FIELDS)  # a segment without a hit of the firm


def _any_weak(parts: Sequence[Part | None]) -> bool:
    for p in parts:
        if p is not None and p.any_weak:
            return True
    return False


def _combine(parts: Sequence[Part | None], weak: bool) -> float:
    """Score of one segment (or node) from its field parts (name, products, scope, industry, supplied): the
    fields' terms added products first, then name, scope, industry, supplied — float sums depend on the order —
    (adding 0.0 for a field without one changes nothing)."""
    score = 0.0
    name, products, scope, industry, supplied = parts
    # unrolled: this runs for every segment of every firm
    if products is not None:
        score += products.all if weak else products.strong
    if name is not None:
        score += name.all if weak else name.strong
    if scope is not None:
        score += scope.all if weak else scope.strong
    if industry is not None:
        score += industry.all if weak else industry.strong
    if supplied is not None:
        score += supplied.all if weak else supplied.strong
    return score


def _industry_names(text: str) -> list[str]:
    """The pieces of an industry text that may name a stock industry ("汽车配件", "底盘与发动机系统 3670")."""
    return [p for p in re.split(r"[\s,，;；|、/]+", unicodedata.normalize("NFKC", text).lower()) if p]


def firm_line(firm: Firm, fld: int, item: int) -> tuple[str, float | str | None] | None:
    """What an evidence entry of a hit names beside the word: its product line, or its supplied component and
    customer; None for the other fields."""
    return firm.lines[item] if fld == 1 else firm.supplied[item] if fld == SUPPLIED else None  # type: ignore


def _by_segment(fields: Sequence[dict[int, Part]]) -> tuple[dict[int, list[Part | None]], bool]:
    """(segment → its part of each field, None where the field has no hit there; whether any hit is strong)."""
    by_seg: dict[int, list[Part | None]] = {}
    strong_hit = False
    for fld, parts in enumerate(fields):
        for seg, p in parts.items():
            seg_parts = by_seg.get(seg)
            if seg_parts is None:
                seg_parts = by_seg[seg] = [None] * len(FIELDS)
            seg_parts[fld] = p
            if p.strong_hit:
                strong_hit = True
    return by_seg, strong_hit


def _segment_score(seg_parts: Sequence[Part | None], prior: float) -> tuple[float, bool]:
    """(score of one segment, 0.0 when no word counts; whether its weak words count). Weak words only add to a
    segment that a strong word of the firm or its industry (a prior) already makes likely; the prior adds to a
    segment some word scores."""
    strong_only = _combine(seg_parts, False)
    weak = prior > 0 or any(p is not None and p.strong_hit for p in seg_parts)
    score = _combine(seg_parts, True) if weak and _any_weak(seg_parts) else strong_only
    return (score + prior if score > 0 else 0.0), weak


@dataclass(frozen=True)
class Candidate:
    """One segment a firm has any chain word for, with the rule features behind it: what `Classifier.candidates`
    gives a learned layer (or an analyst) to decide between the segments and off-chain.

    Field dicts are keyed by the names in FIELDS and hold every field."""

    segment: str  # segment (top-level node) id
    node: str  # the node a placement here is reported on: the most specific one with a strong word (else segment)
    score: float  # the rule score: strong words, weak words once the gate opens, the prior; 0.0 if none count
    placed: bool  # the rules place the firm here
    rank: int | None  # its rank among the firm's placements (0: the primary one); None when not placed
    prior: float  # prior of the segment from the firm's GB/T code or stock industry (0.0 for none)
    best_share: float | None  # largest revenue share given for a product line with a word here (None: none given)
    strong_hits: dict[str, int]  # field → distinct strong words here (product lines: lines with a strong word)
    weak_hits: dict[str, int]  # field → distinct weak words here (lines with a weak word only, for products)
    field_scores: dict[str, float]  # field → its term of the score, strong and weak words, before any gate
    evidence: list[dict]  # every hit here, as placement evidence entries


class SegmentView(NamedTuple):
    """One segment a firm's hits speak for, as the rules score it (`Classifier.segment_views`): what the rules and
    the learned layer (placement_model) decide on; `Candidate` is the same, described for readers."""

    seg: int
    score: float  # the segment score of the rules, prior included; 0.0 when no word counts
    parts: tuple[Part | None, ...]  # per field
    used_weak: bool  # a strong word or a prior ties the segment to the firm, so weak words count
    prior: float  # the prior (GB/T code, stock industry) in `score`

    def hits(self, all_weak: bool = False) -> list[Hit]:
        """The hits that speak for the segment in field and line order: strong ones, and weak ones where they
        count (all of them with all_weak)."""
        return [h for p in self.parts if p is not None for h in p.hits if h[4] or self.used_weak or all_weak]


class Firm(NamedTuple):
    """One firm as the rules read it (`Classifier.firm`): its field parts (`field_parts`, by FIELDS), the
    effective shares of its product lines, its priors by segment, its product lines, its prior key (`prior_key`)
    and its supplied (component, customer) lines."""

    fields: tuple[dict[int, Part], ...]
    shares: Sequence[float]
    prior_of: dict[int, float]
    lines: Sequence[tuple[str, float | None]]
    code: str  # the prior key: the GB/T code, and the industry text where it names a listed stock industry
    supplied: Sequence[tuple[str, str]] = ()


# The attributes of a `Classifier` that depend on its chain alone (see `Classifier._tables`).
_TABLES = ("node_ids", "segment_index", "depth", "names", "supplies", "words", "automaton", "word_nodes", "qualifier",
           "one_segment", "lengths", "spelling", "derived_via", "latin_edges", "prior4", "prior3", "industry_prior",
           "fallback_segments", "fallback_words", "fallback_lines")


class Classifier:
    """Compiled form of one chain: build once per process, then `classify` / `classify_batch` many records.

    model: the learned layer (placement_model) deciding among the rules' candidates; by default the chain's model
    file where it has one and CHAINATLAS_PLACEMENT_MODEL is 1, else None (the rules alone)."""

    def __init__(self, chain: Chain, model: PlacementModel | None | Literal["beside-chain"] = "beside-chain"):
        self.chain = chain
        # The chain's tables (`_tables`), built once per chain and kept with it, also between processes (the build
        # cache): ≈ 8 ms of every process's start here. They are never changed once built.
        vars(self).update(chain.compiled("classifier tables", lambda: self._tables(chain)))
        self._cache: dict[str, tuple[tuple[int, int, int], ...]] = {}
        self._priors: dict[str, dict[int, float]] = {}
        self._prior_sources: dict[str, dict[int, list[dict]]] = {}  # prior key → segment → its evidence entries
        self._phrases: dict[str, tuple[tuple[int, int, int], ...]] = {}  # normalised phrase → hits
        self._raw_phrases: dict[str, tuple[tuple[int, int, int], ...]] = {}  # phrase of a charwise text → hits
        if model == "beside-chain":
            model = load_for_chain(chain.path) if config.placement_model() else None
        self.model = model
        self.terms = ChainTerms(FIELDS, [self.node_ids[s] for s in self.segment_index], self.spelling,
                                self.supplies, THRESHOLD, PLACEHOLDER_SHARE)
        self._featurizer = Featurizer(self.terms, model.buckets, model.used_columns()) if model is not None else None
        if model is not None and self._featurizer is not None and model.dense != self._featurizer.dense:
            raise stale(model_path(chain.path))

    def _tables(self, chain: Chain) -> dict[str, object]:
        """The attributes that depend on the chain alone (its nodes, words and priors), by name."""
        nodes = chain.nodes
        self.node_ids = list(nodes)
        index = {nid: i for i, nid in enumerate(self.node_ids)}
        self.segment_index = [index[chain.segment_of(nid).id] for nid in self.node_ids]
        self.depth = []
        for nid in self.node_ids:
            d, n = 0, nodes[nid]
            while n.parent:
                d, n = d + 1, nodes[n.parent]
            self.depth.append(d)
        self.names = [nodes[nid].name_zh for nid in self.node_ids]
        # Supply edges between segments (sub-node edges count for their segments).
        self.supplies: dict[int, set[int]] = {}
        for nid, node in nodes.items():
            seg = self.segment_index[index[nid]]
            self.supplies.setdefault(seg, set()).update(self.segment_index[index[t]] for t in node.supplies)
        # Exclusion words apply to the node that lists them and to all its descendants.
        applies: dict[int, set[int]] = {}
        for nid in self.node_ids:
            applies[index[nid]] = {index[nid]} | {index[d.id] for d in chain.descendants(nid)}
        # pattern -> (strong node indexes, weak node indexes, excluded node indexes)
        words: dict[str, tuple[set[int], set[int], set[int]]] = {}
        spelled: dict[str, str] = {}  # matching is case-blind; evidence shows the word as the chain file spells it
        for nid, node in nodes.items():
            i = index[nid]
            for w in (*node.keywords, *node.weak_keywords, *node.exclude):
                spelled.setdefault(w.lower(), w)
            for w in node.keywords:
                words.setdefault(w.lower(), (set(), set(), set()))[0].add(i)
            for w in node.weak_keywords:
                words.setdefault(w.lower(), (set(), set(), set()))[1].add(i)
            for w in node.exclude:
                words.setdefault(w.lower(), (set(), set(), set()))[2].update(applies[i])
        self.words: list[tuple[str, tuple[int, ...], tuple[int, ...], frozenset[int]]] = []
        automaton = ahocorasick.Automaton()
        for w, (strong, weak, excl) in words.items():
            if _SEPARATOR.search(w):  # some separator in it (one regular expression: ≈ 3 ms less per process)
                # A keyword spanning a separator could never match inside one phrase; the chain file is wrong.
                raise ValueError(f"关键词 “{w}” 含有分隔符，无法匹配 (keyword contains a phrase separator)")
            # A word both strong and weak for a node counts as strong.
            self.words.append((w, tuple(sorted(strong)), tuple(sorted(weak - strong)), frozenset(excl)))
            automaton.add_word(w, len(self.words) - 1)
        automaton.make_automaton()
        self.automaton = automaton if self.words else None  # pyahocorasick cannot search with no word
        # Words that can qualify a generic head word with vehicle context: any word naming a downstream
        # (vehicle, service) node, or a strong word of a midstream (system) node — not upstream components.
        downstream = {index[nid] for nid, node in nodes.items() if node.stage == STAGE_IDS[-1]}
        midstream = {index[nid] for nid, node in nodes.items() if node.stage == STAGE_IDS[1]}
        self.word_nodes = [set(strong) | set(weak) for _, strong, weak, _ in self.words]
        self.qualifier = [
            bool((set(strong) | set(weak)) & downstream) or bool(set(strong) & midstream)
            for _, strong, weak, _ in self.words
        ]
        self.one_segment = [len({self.segment_index[n] for n in nodes_of}) == 1 for nodes_of in self.word_nodes]
        self.lengths = [len(w) for w, *_ in self.words]
        self.spelling = [spelled[w] for w, *_ in self.words]
        # Words from the chain's derived vocabulary: (word index, node index) → the graph path shown as evidence.
        word_index = {w: i for i, (w, *_) in enumerate(self.words)}
        self.derived_via = {(word_index[w.lower()], index[nid]): path
                            for nid, node in nodes.items() for w, path in node.derived}
        # Latin keywords (SiC, ABS, BMS) must stand alone: "asic" is not SiC.
        self.latin_edges = [(w[0].isascii() and w[0].isalnum(), w[-1].isascii() and w[-1].isalnum())
                            for w, *_ in self.words]
        # GB/T 4754 priors: 4-digit class → nodes, 3-digit group → nodes.
        self.prior4: dict[str, list[int]] = {}
        self.prior3: dict[str, list[int]] = {}
        for nid, node in nodes.items():
            for code in node.gbt4754:
                self.prior4.setdefault(code, []).append(index[nid])
                self.prior3.setdefault(code[:3], []).append(index[nid])
        # Stock-industry priors: industry name (as `_industry_names` reads it) → nodes.
        self.industry_prior: dict[str, list[int]] = {}
        for nid, node in nodes.items():
            for name in node.industries:
                self.industry_prior.setdefault(unicodedata.normalize("NFKC", name).lower(), []).append(index[nid])
        # The fallback for generic lines (`fallback`): the segments it chooses among (the default first), its words
        # as matched (normalised like a phrase) → as the file spells them; none where the chain declares none.
        fallback = chain.fallback
        self.fallback_segments = [index[n] for n in fallback.nodes] if fallback is not None else []
        self.fallback_words = {unicodedata.normalize("NFKC", w).lower(): w for w in fallback.words} if fallback else {}
        self.fallback_lines = {unicodedata.normalize("NFKC", w).lower(): w for w in fallback.lines} if fallback else {}
        return {name: vars(self)[name] for name in _TABLES}

    def supplied_text(self, line: tuple[str, str]) -> str:
        """The text a supplied (component, customer) line is scanned as: a component with a chain word gets the
        customer's name before it, in one phrase, so a customer that names a vehicle ("蔚来汽车") qualifies a generic
        component ("电池包") as the head rule qualifies "乘用车齿轮"; the component, last, is the head, so the
        customer's own words place nothing (and a component without a chain word is scanned alone)."""
        component, customer = line
        return f"{customer} {component}" if customer and self._scan(component) else component

    def all_words(self) -> list[str]:
        """Every keyword, weak keyword and exclusion word (the pattern list a grep baseline would use)."""
        return list(self.spelling)

    # ------------------------------------------------------------------ scanning

    def _scan(self, text: str) -> tuple[tuple[int, int, int], ...]:
        """Hits in one field text that survive the phrase rules: (word index, node index, strong 1/0).

        Cached per text, and each phrase per phrase text: scopes repeat their phrases ("技术咨询", "货物进出口")
        across a million firms. No word contains a separator, so a phrase scanned alone gives the hits it gives
        inside the text (its neighbours are separators, never Latin letters).
        """
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        out: list[tuple[int, int, int]] = []
        # Full-width letters and digits (ＢＭＳ, ＳｉＣ) and compatibility forms read as their plain forms. A text
        # normalised character by character is cut first, and each phrase is normalised only when first seen.
        charwise = _NOT_CHARWISE.search(text) is None
        phrases = self._raw_phrases if charwise else self._phrases
        for phrase in (_RAW_SEPARATOR if charwise else _SEPARATOR).split(
            text if charwise else unicodedata.normalize("NFKC", text).lower()
        ):
            if phrase:
                found = phrases.get(phrase)
                if found is None:
                    found = self._scan_phrase(unicodedata.normalize("NFKC", phrase).lower() if charwise else phrase)
                    if len(phrases) > 500_000:  # bound memory on endless distinct texts
                        phrases.clear()
                    phrases[phrase] = found
                out.extend(found)
        result = tuple(sorted(out, key=_STRENGTH, reverse=True))  # strong hits first, a stable sort
        if len(self._cache) > 500_000:
            self._cache.clear()
        self._cache[text] = result
        return result

    def _scan_phrase(self, text: str) -> tuple[tuple[int, int, int], ...]:
        """Hits in one phrase (normalised text without separators), in the order the phrase rules give them."""
        phrase, excluded = self._matches(text)
        out: list[tuple[int, int, int]] = []
        if phrase:
            self._phrase(phrase, excluded, out)
        return tuple(out)

    def _matches(self, text: str) -> tuple[list[tuple[int, int]], frozenset[int]]:
        """The words of one normalised phrase, a Latin word standing alone: (end, word index) of the maximal
        matches, and the nodes the phrase's exclusion words rule out."""
        phrase: list[tuple[int, int]] = []  # (end, word index), maximal matches only
        if self.automaton is None:
            return phrase, frozenset()
        lengths, latin, words = self.lengths, self.latin_edges, self.words
        # A negative context counts even inside a longer word: 三轮 keeps 三轮汽车后桥 off the chassis, though the
        # longer 三轮汽车 (a negative context of cars) is the maximal match there.
        excluded: frozenset[int] = frozenset()
        for end, wi in self.automaton.iter(text):
            n = lengths[wi]
            left, right = latin[wi]
            if (left and end >= n and _is_latin(text[end - n])) or (
                right and end + 1 < len(text) and _is_latin(text[end + 1])
            ):
                continue
            if words[wi][3]:
                excluded = excluded | words[wi][3]
            # Keep maximal matches only: a word inside a longer one ("电机" in "驱动电机") is dropped, while
            # overlapping words both stay ("动力电池" + "电池管理系统") for the head rule to decide.
            start = end - n
            while phrase and phrase[-1][0] - lengths[phrase[-1][1]] >= start:
                phrase.pop()
            if phrase and phrase[-1][0] - lengths[phrase[-1][1]] <= start and phrase[-1][0] >= end:
                continue
            phrase.append((end, wi))
        return phrase, excluded

    def _phrase(self, phrase: list[tuple[int, int]], excluded: frozenset[int], out: list[tuple[int, int, int]]
                ) -> None:
        words = self.words
        # Head rule: the node(s) of the last positive hit of the phrase speak for it.
        last = -1
        for _, wi in reversed(phrase):
            if self.word_nodes[wi]:
                last = wi
                break
        if last < 0:
            return
        head = self.word_nodes[last]
        # A generic head word qualified by another chain word ("乘用车齿轮", "汽车热交换器") names a part
        # of this chain, so the qualifier upgrades a weak head to strong — if the head names one segment only:
        # "新能源汽车零部件" says vehicle part, not which one.
        qualified = len(phrase) > 1 and self.one_segment[last] and any(
            wi != last and self.qualifier[wi] and not self.word_nodes[wi] <= head for _, wi in phrase
        )
        for _, wi in phrase:
            _, strong, weak, _ = words[wi]
            for n in strong:
                if n in head and n not in excluded:
                    out.append((wi, n, 1))
            for n in weak:
                if n in head and n not in excluded:
                    out.append((wi, n, 1 if qualified and wi == last else 0))

    def generic_lines(self, lines: Sequence[tuple[str, float | None]]) -> list[tuple[int, str, frozenset[int]]]:
        """The product lines the fallback reads (`fallback`): (line index, the generic word as the chain file spells
        it, the nodes an exclusion word in its phrase rules out) for each phrase of a line with a real revenue share
        that holds a generic word of the chain (`words`) or is a bare market line (`lines`); none without a
        fallback. Placeholder shares never place a firm, so neither do their lines here."""
        out: list[tuple[int, str, frozenset[int]]] = []
        if not self.fallback_segments:
            return out
        for item, (product, share) in enumerate(lines):
            if not real_share(share):
                continue
            for phrase in _SEPARATOR.split(unicodedata.normalize("NFKC", product).lower()):
                phrase = phrase.strip()
                word = self.fallback_lines.get(phrase) or next(
                    (spelled for w, spelled in self.fallback_words.items() if w in phrase), None)
                if word is not None:
                    out.append((item, word, self._matches(phrase)[1]))
        return out

    def fallback(self, firm: Firm) -> tuple[float, int, list[dict]] | None:
        """The fallback placement of a firm the rules place nowhere (see the module's rules): (score, segment,
        evidence), or None when no product line of it is generic for a segment the fallback may choose.

        The segment is the one, among the chain's fallback segments whose exclusion words the generic phrase does not
        hold, that the firm's other evidence scores highest (its words there, weak ones included, and its prior),
        the declared order breaking ties (the default first)."""
        # a generic line is one the scan finds a chain word in (the chain file's generic words hold one): the batch
        # engine looks only at such product cells
        with_hit = {h[1] for p in firm.fields[1].values() for h in p.hits}
        generic = [g for g in self.generic_lines(firm.lines) if g[0] in with_hit] if with_hit else []
        if not generic:
            return None
        by_seg, _ = _by_segment(firm.fields)
        best: tuple[float, int, dict[int, str], list[Hit]] | None = None
        for seg in self.fallback_segments:
            items: dict[int, str] = {}  # generic line → its word (its first phrase not ruling the segment out)
            for item, word, excluded in generic:
                if seg not in excluded:
                    items.setdefault(item, word)
            if not items:
                continue
            # the generic lines' own hits (汽车零部件 is a weak word of every parts segment) are not other evidence
            parts = list(by_seg.get(seg, _NO_PARTS))
            lines = parts[1]
            if lines is not None and any(h[1] in items for h in lines.hits):
                rest = [h for h in lines.hits if h[1] not in items]
                parts[1] = _part(1, rest, firm.shares) if rest else None
            support = _combine(parts, True) + firm.prior_of.get(seg, 0.0)
            if best is None or support > best[0]:
                best = (support, seg, items, [h for p in parts if p is not None for h in p.hits])
        if best is None:
            return None
        support, seg, items, others = best
        node = self.node_ids[seg]
        generic_term = _PRODUCTS_WEIGHT * min(_PRODUCTS_CAP, sum(WEAK * firm.shares[i] for i in items) / FULL_SHARE)
        evidence: list[dict] = []
        for item, word in items.items():
            product, share = firm.lines[item]
            evidence.append({"field": "products", "word": word, "kind": "generic", "node": node, "product": product,
                             "share": round(float(share), 4), "note": GENERIC_NOTE})  # type: ignore[arg-type]
        evidence.extend(self.evidence_list(sorted(others, key=_HIT_STRENGTH, reverse=True), firm, seg, None))
        return FALLBACK_WEIGHT * min(THRESHOLD, generic_term + support), seg, evidence

    # ------------------------------------------------------------------ scoring

    def firm(self, record: Record, scan: Callable[[str], tuple[tuple[int, int, int], ...]] | None = None,
             scope_hits: tuple[tuple[int, int, int], ...] | None = None) -> Firm:
        """A record as the placement rules read it (what `decide` takes); scan: how a text is scanned (`_scan`, or a
        placement kernel's `scan`, equal to it); scope_hits: the scope's hits where they are known instead of its
        text (the batch engine scans scopes as it reads a file)."""
        products = record.products
        code = (record.industry_code or "").strip()
        industry_text = record.industry or ""
        if code and not code.isdigit():
            industry_text, code = f"{industry_text} {code}".strip(), ""
        scan = scan or self._scan
        shares = effective_shares(products)
        fields = (
            self.field_parts(0, (scan(record.name),) if record.name else (), shares),
            self.field_parts(1, [scan(product) for product, _ in products], shares),
            self.field_parts(2, (scope_hits,) if scope_hits is not None else (scan(record.scope),) if record.scope
                             else (), shares),
            self.field_parts(3, (scan(industry_text),) if industry_text else (), shares),
            self.field_parts(4, [scan(self.supplied_text(line)) for line in record.supplied], shares),
        )
        key = self.prior_key(code, industry_text)
        return Firm(fields, shares, self.priors(key), products, key, record.supplied)

    def classify(self, record: Record, scan: Callable[[str], tuple[tuple[int, int, int], ...]] | None = None,
                 scope_hits: tuple[tuple[int, int, int], ...] | None = None) -> list[Placement]:
        """The firm's placements, best first (scan, scope_hits: see `firm`)."""
        firm = self.firm(record, scan, scope_hits)
        out: list[Placement] = []
        for s, seg, target, evidence, probability in self.decide([firm])[0]:
            score = round(s, 3)
            ev = self.evidence_list(evidence, firm, seg, probability)
            out.append(Placement(
                id=record.id, node_id=self.node_ids[target], node_name=self.names[target], score=score,
                confidence=round(1.0 - math.exp(-s), 3) if probability is None else round(probability, 3),
                evidence=ev, share=placement_share(ev)))
        if not out and self.fallback_segments:
            inferred = self.fallback(firm)
            if inferred is not None:
                s, seg, ev = inferred
                out.append(Placement(id=record.id, node_id=self.node_ids[seg], node_name=self.names[seg],
                                     score=round(s, 3), confidence=round(1.0 - math.exp(-s), 3), evidence=ev,
                                     share=placement_share(ev)))
        return out

    def view(self, firm: Firm, weak_alone: bool | None = None) -> FirmView:
        """What the learned layer sees of a firm: its segment views and the rules' placements among them
        (weak_alone: see `segment_views`; by default where a model decides)."""
        weak_alone = self.model is not None if weak_alone is None else weak_alone
        segments = self.segment_views(firm.fields, firm.prior_of, weak_alone)
        # The product lines are part of a firm's batch signature only when one of them has a hit.
        return FirmView(segments, self.place_views(segments, firm.shares) if segments else [],
                        firm.shares, firm.lines if firm.fields[1] else ())

    def decide(self, firms: Sequence[Firm]) -> list[list[tuple[float, int, int, list[Hit], float | None]]]:
        """The placements of firms (`firm`; the batch engine builds them from its signatures): (rule score,
        segment, target node, evidence hits, the model's probability or None) each, best first. The rules decide
        alone without a model, and with one where they place a firm clearly (`rules_decide`); the model decides
        the other firms among their segment views, in one vectorised pass over all of them (the batch engine hands
        it every such signature at once)."""
        views = [self.view(firm) for firm in firms]
        if self.model is None or self._featurizer is None:
            return [[(*placed, None) for placed in view.ruled] for view in views]
        model_decides = [bool(v.candidates) and not rules_decide(v) for v in views]
        decided = iter(decide(self.model, self._featurizer, [v for v, m in zip(views, model_decides) if m]))
        out = []
        for view, by_model in zip(views, model_decides):
            if not by_model:
                out.append([(*placed, None) for placed in view.ruled])
                continue
            placed = []
            for probability, k in next(decided):
                c = view.candidates[k]
                # the model weighed every hit of the segment, weak ones too: all are its evidence
                hits = c.hits(all_weak=True)
                target = self.target(hits, view.shares) if any(h[4] for h in hits) else c.seg
                placed.append((c.score, c.seg, target, sorted(hits, key=_HIT_STRENGTH, reverse=True), probability))
            out.append(placed)
        return out

    def evidence_list(self, hits: Sequence[Hit], firm: Firm, seg: int, probability: float | None) -> list[dict]:
        """A placement's evidence as `classify` gives it: one entry per distinct hit, the priors, the model's
        probability where the model placed it."""
        ev: list[dict] = []
        for fld, item, wi, n, strong in hits:
            e = self.evidence_entry(fld, wi, n, strong, firm_line(firm, fld, item))
            if e not in ev:
                ev.append(e)
        if seg in firm.prior_of:
            ev.extend(self.prior_entries(firm.code, seg))
        if probability is not None:
            ev.append({"field": "model", "word": f"{probability:.2f}", "kind": "model", "node": self.node_ids[seg]})
        return ev

    def candidates(self, record: Record) -> list[Candidate]:
        """Every segment the firm has a chain word for, with the rule features behind it, placed ones first (in
        placement order), then by score. The public hook for a learned layer over the rules: `placed`/`rank` say
        what the rules decide; the features say why. Computed in Python per firm (not by the batch kernel)."""
        firm = self.firm(record)
        fields, shares, prior_of, products = firm.fields, firm.shares, firm.prior_of, firm.lines
        rank_of = {seg: rank for rank, (_, seg, _, _) in enumerate(self.place_with_priors(fields, shares, prior_of))}
        by_seg, _ = _by_segment(fields)
        out: list[Candidate] = []
        for seg, seg_parts in by_seg.items():
            prior = prior_of.get(seg, 0.0)
            score, _ = _segment_score(seg_parts, prior)
            hits = [h for p in seg_parts if p is not None for h in p.hits]
            strong, weak, given = {f: 0 for f in FIELDS}, {f: 0 for f in FIELDS}, []
            for fld, p in enumerate(seg_parts):
                if p is None:
                    continue
                # products count by line, other fields by word (as `_part` scores them)
                count_by = operator.itemgetter(1) if fld == 1 else operator.itemgetter(2)
                strong_keys = {count_by(h) for h in p.hits if h[4]}
                strong[FIELDS[fld]] = len(strong_keys)
                weak[FIELDS[fld]] = len({count_by(h) for h in p.hits if not h[4]} - strong_keys)
            for h in hits:
                share = products[h[1]][1] if h[0] == 1 else None
                if share is not None and not math.isnan(share):
                    given.append(float(share))
            evidence: list[dict] = []
            for fld, item, wi, n, st in sorted(hits, key=_HIT_STRENGTH, reverse=True):
                e = self.evidence_entry(fld, wi, n, st, firm_line(firm, fld, item))
                if e not in evidence:
                    evidence.append(e)
            out.append(Candidate(
                segment=self.node_ids[seg],
                node=self.node_ids[self.target(hits, shares) if any(h[4] for h in hits) else seg],
                score=round(score, 3), placed=seg in rank_of, rank=rank_of.get(seg), prior=prior,
                best_share=max(given) if given else None, strong_hits=strong, weak_hits=weak,
                field_scores={f: round(p.all, 3) if p is not None else 0.0 for f, p in zip(FIELDS, seg_parts)},
                evidence=evidence,
            ))
        out.sort(key=lambda c: (c.rank is None, c.rank or 0, -c.score, c.segment))
        return out

    def evidence_entry(self, fld: int, wi: int, n: int, strong: int, line: tuple[str, float | str | None] | None
                       ) -> dict:
        """One evidence entry: which word matched in which field for which node (for a product line: the line
        and its revenue share when given; for a supplied component: the component and the customer)."""
        e: dict = {"field": FIELDS[fld], "word": self.spelling[wi], "kind": "strong" if strong else "weak",
                   "node": self.node_ids[n]}
        via = self.derived_via.get((wi, n))
        if via is not None:  # a word the chain's keywords do not name, reached through the product graph
            e["source"], e["via"] = "derived", via
        if line is not None:
            e["product"] = line[0]
            if fld == SUPPLIED:
                e["customer"] = line[1]
                return e
            share = line[1]
            if share is not None and not math.isnan(share):  # type: ignore[arg-type]
                e["share"] = round(float(share), 4)
        return e

    def prior_key(self, code: str, industry: str) -> str:
        """What `priors` takes for a firm: its GB/T code, with its industry text appended (after PRIOR_KEY_SEP) only
        when that text names a stock industry listed on a node or holds an exclusion word, so that firms differing
        only in an industry text that changes no prior share one key (and one batch signature)."""
        if industry and any(piece in self.industry_prior or self._excluded_segments(piece)
                            for piece in _industry_names(industry)):
            return f"{code}{PRIOR_KEY_SEP}{industry}"
        return code

    def _excluded_segments(self, piece: str) -> set[int]:
        """The segments an industry name rules out: those with an exclusion word in it (农用机械 for engines)."""
        if self.automaton is None:
            return set()
        return {self.segment_index[n] for _, wi in self.automaton.iter(piece) for n in self.words[wi][3]}

    def prior_entries(self, key: str, seg: int) -> list[dict]:
        """The evidence entries of a segment's prior for a prior key (see `priors`): one per source."""
        return self._prior_sources[key][seg]

    def priors(self, key: str) -> dict[int, float]:
        """Prior per segment for a prior key (`prior_key`: a GB/T code of digits, "" for none, and maybe a stock
        industry text); cached per key. Each source (the code; each stock-industry name) gives a segment its
        largest prior there; sources that agree add up, to PRIOR_CAP (an SW 底盘与发动机系统 firm that Tushare calls
        汽车配件 leans to chassis more than to body parts)."""
        cached = self._priors.get(key)
        if cached is None:
            code, _, industry = key.partition(PRIOR_KEY_SEP)
            sources: list[tuple[dict, list[tuple[int, float]]]] = []  # (evidence entry, [(node, prior)])
            if code.isdigit():
                found = [(n, PRIOR_4) for n in (self.prior4.get(code[:4], ()) if len(code) >= 4 else ())]
                found += [(n, PRIOR_3) for n in self.prior3.get(code[:3], ())]
                sources.append(({"field": "industry_code", "word": code, "kind": "prior"}, found))
            for piece in dict.fromkeys(_industry_names(industry)):
                found = [(n, PRIOR_INDUSTRY) for n in self.industry_prior.get(piece, ())]
                sources.append(({"field": "industry", "word": piece, "kind": "prior"}, found))
            # An industry that names a negative context of a segment (Tushare 农用机械: an exclusion word of engines)
            # gives it no prior from any source: its diesel engines are a tractor's, not a vehicle's.
            ruled_out = {seg for piece in _industry_names(industry) for seg in self._excluded_segments(piece)}
            cached, why = {}, {}
            for entry, found in sources:
                best: dict[int, float] = {}
                for n, p in found:
                    seg = self.segment_index[n]
                    if seg not in ruled_out:
                        best[seg] = max(best.get(seg, 0.0), p)
                for seg, p in best.items():
                    cached[seg] = min(PRIOR_CAP, cached.get(seg, 0.0) + p)
                    why.setdefault(seg, []).append({**entry, "node": self.node_ids[seg]})
            self._priors[key], self._prior_sources[key] = cached, why
        return cached

    def field_parts(
        self, fld: int, hits_by_item: Sequence[Sequence[tuple[int, int, int]]], shares: Sequence[float]
    ) -> dict[int, Part]:
        """One field's scanned hits (per product line for products, else one list) as a `Part` per segment; in the
        industry field only the strong ones.
        A pure function of its arguments (the compiled kernel, placement_kernel.pyx, computes the same parts)."""
        seg_of = self.segment_index
        grouped: dict[int, list[Hit]] = {}
        industry = fld == 3
        for item, found in enumerate(hits_by_item):
            for wi, n, strong in found:
                if industry and not strong:  # a category name's generic words say no more than its prior
                    continue
                seg = seg_of[n]
                if seg in grouped:
                    grouped[seg].append((fld, item, wi, n, strong))
                else:
                    grouped[seg] = [(fld, item, wi, n, strong)]
        return {seg: _part(fld, hits, shares) for seg, hits in grouped.items()}

    def place(
        self, fields: Sequence[dict[int, Part]], shares: Sequence[float], key: str
    ) -> list[tuple[float, int, int, list[Hit]]]:
        """The placement rules on the field parts of one firm (name, products, scope, industry — see
        `field_parts`), the effective shares of its product lines and its prior key (`prior_key`; a bare GB/T
        code is one): (score, segment, target
        node, evidence hits in evidence order, not yet deduplicated) per placement, best first. `classify`
        renders them as `Placement`s. placement_kernel.pyx computes exactly this, on C arrays, for batches."""
        return self.place_with_priors(fields, shares, self.priors(key))

    def place_with_priors(
        self, fields: Sequence[dict[int, Part]], shares: Sequence[float], prior_of: dict[int, float]
    ) -> list[tuple[float, int, int, list[Hit]]]:
        """`place` with the priors given by segment (`priors(key)`) rather than the key."""
        return self.place_views(self.segment_views(fields, prior_of), shares)

    def segment_views(self, fields: Sequence[dict[int, Part]], prior_of: dict[int, float], weak_alone: bool = False
                      ) -> list[SegmentView]:
        """Every segment some hit of the firm speaks for, scored by the rules (which place those reaching
        THRESHOLD, `place_views`; the learned layer weighs them all). For the rules, none for a firm without a
        strong word of the chain (the common case for a registry): weak words and priors never place alone. The
        learned layer also weighs firms whose product lines have weak words only (weak_alone): a quarter of the
        labelled chain firms name their products only in words the rules deem too generic ("汽车零部件", "电机")."""
        by_seg, strong_hit = _by_segment(fields)
        # For the rules, a prior where the firm has a weak word can place it with that word (`_segment_score`).
        if not strong_hit and not (weak_alone and fields[1]) and not any(seg in prior_of for seg in by_seg):
            return []
        out = []
        for seg, seg_parts in by_seg.items():
            prior = prior_of.get(seg, 0.0)
            score, used_weak = _segment_score(seg_parts, prior)
            out.append(SegmentView(seg, score, tuple(seg_parts), used_weak, prior))
        return out

    def place_views(self, views: Sequence[SegmentView], shares: Sequence[float]
                    ) -> list[tuple[float, int, int, list[Hit]]]:
        """The rules' placements among a firm's segment views: (score, segment, target node, evidence hits in
        evidence order, not yet deduplicated), best first."""
        placed = [(v.score, v.seg) for v in views if v.score >= THRESHOLD]
        if not placed:
            return []
        # A firm placed on a supplier segment at least as strongly as on the segment it supplies names its
        # customers' segment only as context ("乘用车" among a gear maker's product lines): drop the customer.
        if len(placed) > 1:
            scores = {seg: s for s, seg in placed}
            placed = [
                (s, seg) for s, seg in placed
                if not any(seg in self.supplies[a] and sa >= s for a, sa in scores.items() if a != seg)
            ]
        placed.sort(key=lambda t: (-t[0], t[1]))
        by_seg = {v.seg: v for v in views}
        out = []
        for s, seg in placed:
            seg_hits = by_seg[seg].hits()
            # Evidence lists strong words first, then by field and product line: seg_hits is in field and line
            # order already, so a stable sort on strength alone gives that order.
            out.append((s, seg, self.target(seg_hits, shares), sorted(seg_hits, key=_HIT_STRENGTH, reverse=True)))
        return out

    def target(self, seg_hits: Sequence[Hit], shares: Sequence[float]) -> int:
        """The node a segment's placement is reported on: the most specific node with strong evidence of its own
        (deepest, then highest own score), from the segment's evidence hits in field and line order; the segment
        itself when no hit is strong (weak words corroborated by a prior)."""
        strong_nodes = list({h[3] for h in seg_hits if h[4]})
        if not strong_nodes:
            return self.segment_index[seg_hits[0][3]]
        if len(strong_nodes) > 1:  # the deepest nodes, in set order; their own scores only break a tie
            deepest = max(self.depth[n] for n in strong_nodes)
            strong_nodes = [n for n in strong_nodes if self.depth[n] == deepest]
        return strong_nodes[0] if len(strong_nodes) == 1 else max(
            strong_nodes, key=lambda n: self._node_score([h for h in seg_hits if h[3] == n], shares)
        )

    @staticmethod
    def _node_score(hits: list[Hit], shares: Sequence[float]) -> float:
        """Strong-word score of one node from its hits, summed like a segment's."""
        parts: list[Part | None] = [None] * len(FIELDS)
        for fld in range(len(FIELDS)):
            mine = [h for h in hits if h[0] == fld]
            if mine:
                parts[fld] = _part(fld, mine, shares)
        return _combine(parts, False)

    def classify_batch(self, records: Iterable[Record]) -> list[Placement]:
        out: list[Placement] = []
        for r in records:
            out.extend(self.classify(r))
        return out

