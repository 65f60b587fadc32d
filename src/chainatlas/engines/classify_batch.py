"""Columnar batch placement: the same placements as `Classifier.classify`, for a million firms at a time.

Why it is fast and still exact:
- A registry repeats itself: scopes, product lists and industries recur, and most names carry no chain word.
  Each *distinct* field text is handled once, and only texts that contain a chain word at all (a Rust
  Aho-Corasick pass over the whole column, `str.contains_any`) are scanned, by the compiled kernel
  (placement_kernel.pyx: the engine's `_scan` and `place` on C arrays, equal to them bit for bit), or where it
  was not built by the pure-Python one with the same interface (engines/kernel.py chooses).
- `Classifier.classify` is a pure function of (name hits, product list, scope hits, industry hits, prior key,
  supplied components)
  — the name and scope texts matter only through their hits, a product list only when one of its lines has a
  hit. Firms sharing that *signature* get the same placements, so the placement rules run once per distinct
  signature and the result is joined back to every firm carrying it. Firms with no strong hit in any field are
  placed nowhere, exactly as the engine's early exit decides.
- Evidence JSON is joined from cached per-entry JSON texts of the engine's own entries (`evidence_entry`).
"""

from __future__ import annotations

import gc
import json
import math
import operator
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import polars as pl

from chainatlas.domain.chain import Chain, load_chain
from chainatlas.engines.classify import (
    Classifier,
    Firm,
    Placement,
    Record,
    effective_shares,
    placement_share,
)
from chainatlas.engines.kernel import COMPILED, Kernel
from chainatlas.engines.placement_model import RULES_DECIDE_FROM

# Columns of the frame `classify_frame` takes: the fields of `Record`, every column a string (nulls read as "");
# products is the raw cell text ("动力电池:0.82；储能系统(6%)"), or any key that `products_of` turns into the list.
# Instead of scope, a UInt32 column scope_hid may give the scopes' hit list ids, from the same classifier's
# `scope_ids`.
INPUT_COLUMNS = ("id", "name", "products", "scope", "industry_code", "industry")
# Columns it returns: one row per placement, in input order, best first within each firm (as `classify`);
# row is the firm's 0-based row in the input frame; evidence is JSON, or its CSV field (see `Kernel`).
RESULT_COLUMNS = ("row", "id", "node_id", "node_name", "score", "confidence", "evidence", "score_text")
ProductsOf = Callable[[str], Sequence[tuple[str, float | None]]]
SuppliedOf = Callable[[str], Sequence[tuple[str, str]]]
_SIGNATURE = ("name_hid", "products_key", "scope_hid", "industry_hid", "prior_key", "supplied_key")
_PLACEMENTS = {"sig": pl.UInt32, "rank": pl.UInt32, "node_id": pl.String, "node_name": pl.String, "score": pl.Float64,
               "confidence": pl.Float64, "evidence": pl.String, "score_text": pl.String}
_first = operator.itemgetter(0)
_SAMPLE = 10_000  # rows looked at to tell a column of distinct texts from a repetitive one
# Characters NFKC leaves as they are: ASCII, 、。 and the CJK Unified Ideographs (none of which has a
# decomposition or combines with a neighbour; tests/test_classify_batch.py checks that).
NFKC_STABLE = "\x00-\x7F\u3001\u3002\u4E00-\u9FFF"


class BatchClassifier:
    """Compiled chain plus the per-distinct-text memory that makes large batches cheap; one per process."""

    def __init__(self, chain: Chain, csv_evidence: bool = False):
        """csv_evidence: the evidence column holds each placement's evidence as the CSV field minimal quoting
        writes (for a CSV writer with no quoting of its own), not as JSON."""
        self.classifier = Classifier(chain)
        self.kernel = Kernel(self.classifier, csv_evidence)
        self.csv_evidence = csv_evidence
        # Words that can yield a hit (a node's keyword or weak keyword); a text with none of them has no hits.
        self._positive = sorted({w for w, strong, weak, _ in self.classifier.words if strong or weak})
        # Words without which a text has no strong hit: strong words, and qualifiers (which make a weak head strong).
        self._may_be_strong = sorted({w for (w, strong, _, _), qualifier in zip(self.classifier.words,
                                                                                 self.classifier.qualifier)
                                      if strong or qualifier})
        # A text needs NFKC before the prefilter only if it has a character outside NFKC_STABLE that can matter:
        # a full-width form (Ｂ, （) becomes one ASCII character, and where neither it nor that character is in
        # any chain word, it is outside every match either way (（武汉） in firm names).
        spelled = "".join(w for w, *_ in self.classifier.words)  # lower case, as matched
        inert = [ch for c in range(0xFF01, 0xFF5F)
                 if (ch := chr(c)) not in spelled and chr(c - 0xFEE0).lower() not in spelled]
        self._unstable = "[^" + NFKC_STABLE + "".join(re.escape(ch) for ch in inert) + "]"

    # ------------------------------------------------------------------ per distinct text

    def _may_hit(self, values: pl.Series, words: list[str] | None = None) -> pl.Series:
        """False where a text certainly has no hit: it contains none of `words` (default: the positive words)
        once read as the scan reads it (NFKC; case-blind for Latin letters, the only cased letters in a chain
        file's words). Only texts with a character that NFKC may change into part of a word are normalised."""
        words = self._positive if words is None else words
        if not words:
            return pl.repeat(False, values.len(), dtype=pl.Boolean, eager=True)
        found = values.str.contains_any(words, ascii_case_insensitive=True).fill_null(False)
        unstable = values.str.contains(self._unstable).fill_null(False).arg_true()
        if unstable.len():
            normalised = values.gather(unstable).str.normalize("NFKC")
            found = found.scatter(unstable, normalised.str.contains_any(words, ascii_case_insensitive=True))
        return found

    def _strong(self) -> pl.Series:
        """By hit list id: whether the list has a strong hit."""
        return pl.Series(self.kernel.strong_flags(), dtype=pl.UInt8).cast(pl.Boolean)

    def scope_ids(self, cells: pl.Series, clean: CleanUp) -> pl.Series:
        """The hit list ids of a scope column's raw cells once cleaned (what `classify_frame` takes as scope_hid)."""
        return self._hit_ids(cells, clean=clean)

    def _hit_ids(self, values: pl.Series, placed_by_others: pl.Series | None = None, clean: CleanUp | None = None
                 ) -> pl.Series:
        """Interned hit list id of each text (`Kernel.scan_ids`; 0 for none).

        A column of mostly distinct texts (firm names) is filtered before it is deduplicated, since only a few
        of its texts contain a chain word; a repetitive one (scopes, industries) the other way round. Where
        `placed_by_others` is False (no strong hit in the firm's other fields) the hits matter only if some are
        strong, so a text there without a strong word or qualifier is not scanned (its id is 0). clean: `values`
        are raw cells, to be read as this clean-up leaves them."""
        scan = self.kernel.scan_ids
        sample = values.head(_SAMPLE)
        distinct_share = sample.n_unique() / sample.len() if sample.len() else 0.0
        if distinct_share > 0.5 and COMPILED or (
                distinct_share > 0.9 and placed_by_others is None and self._may_hit(sample).mean() > 0.5):
            # Mostly distinct texts: the compiled kernel scans them all sooner than polars sifts them for chain
            # words (200,000 firm names: 0.03 s against 0.05 s for the sift alone); registry business scopes, nearly
            # all of which hold some chain word, are scanned as they are by either kernel (equal texts get equal
            # ids all the same). A name scanned whole where `placed_by_others` would have spared it changes no
            # placement: its weak hits alone place nothing.
            if clean is None:
                return pl.Series(self.kernel.scan_column(values), dtype=pl.UInt32)
            # the clean-up's test of every cell is part of the scan: only the cells it may change are cleaned
            ids = pl.Series(self.kernel.scan_column(values, clean.short), dtype=pl.Int64)
            unclean = (ids < 0).arg_true()
            if unclean.len():
                ids = ids.scatter(unclean, self._hit_ids(clean.column(values.gather(unclean))).cast(pl.Int64))
            return ids.cast(pl.UInt32)
        if clean is not None:
            values = clean.column(values)
        if distinct_share > 0.5:
            may_hit = self._may_hit(values)
            if placed_by_others is not None:
                unsure = (may_hit & ~placed_by_others).arg_true()
                may_hit = may_hit.scatter(unsure, self._may_hit(values.gather(unsure), self._may_be_strong))
            texts, index = distinct_texts(values.filter(may_hit))
            return _spread(may_hit, pl.Series(scan(texts.to_list()), dtype=pl.UInt32).gather(index))
        distinct, index = distinct_texts(values)
        may_hit = self._may_hit(distinct)
        return _spread(may_hit, pl.Series(scan(distinct.filter(may_hit).to_list()), dtype=pl.UInt32)).gather(index)

    def _product_cells(self, cells: pl.Series, products_of: ProductsOf | None) -> _ProductCells:
        """The distinct product cells, with which of them has a strong hit: only a cell holding a strong word or a
        qualifier can have one, so only such cells are read here (the rest when a firm is placed, `_product_keys`)."""
        sample = cells.head(_SAMPLE)
        if products_of is None and COMPILED and sample.n_unique() > 0.9 * sample.len():
            # nearly every cell distinct (registry product lists): each row's cell is read as its own, without
            # grouping equal ones (200,000 diverse registry rows: 0.035 s saved, 1.4 % of the cells read twice)
            distinct, index = cells, pl.int_range(cells.len(), dtype=pl.UInt32, eager=True)
        else:
            distinct, index = distinct_texts(cells)
        if products_of is None and COMPILED:
            # the compiled kernel reads every cell sooner than polars sifts them for chain words (200,000 distinct
            # cells: 0.2 s against 0.3 s): whether a cell has a hit is then known, not only whether it may
            flags = pl.Series(self.kernel.product_flags(distinct), dtype=pl.UInt8)
            return _ProductCells(distinct, index, flags > 0, products_of, strong=flags >= 3, read=True)
        if products_of is None:
            # cell text: its lines are pieces of it, so a cell without a chain word has no hit
            may_hit = self._may_hit(distinct)
            unsure = may_hit.arg_true()
            may_strong = may_hit.clone().scatter(unsure, self._may_hit(distinct.gather(unsure), self._may_be_strong))
        else:
            may_hit = may_strong = pl.repeat(True, distinct.len(), eager=True)
        products = _ProductCells(distinct, index, may_hit, products_of)
        products.strong = self._cell_flags(products, may_strong.arg_true(), strong=True)
        return products

    def _cell_flags(self, products: _ProductCells, which: pl.Series, strong: bool) -> pl.Series:
        """By distinct product cell: whether a line has a hit (strong: a strong hit), for the cells `which` (every
        cell's where all were read); False for the rest."""
        if products.read:
            return products.strong if strong else products.may_hit
        if products.products_of is None:
            flags = pl.Series(self.kernel.product_flags(products.distinct.gather(which)), dtype=pl.UInt8)
        else:
            flags = pl.Series([0 if listed is None else 3 if listed.strong else 1
                               for listed in self._listed(products, which)], dtype=pl.UInt8)
        return pl.zeros(products.distinct.len(), dtype=pl.Boolean, eager=True).scatter(
            which, flags >= 3 if strong else flags > 0)

    def _listed(self, products: _ProductCells, which: pl.Series, named_only: bool = False
                ) -> list[_Products | None]:
        """The distinct product cells `which` parsed into lines and scanned (None for a cell without a hit); the
        compiled kernel reads cell text without a Python string per cell, and makes the lines of cells with a hit.
        named_only: cell text's lines without a hit may be None (`Kernel.product_lists`)."""
        cells = products.distinct.gather(which)
        if products.products_of is None:
            # tuple.__new__ makes the named tuple without `_make`'s Python frame (45,000 cells: 15 ms)
            return [None if listed is None else tuple.__new__(_Products, listed)
                    for listed in self.kernel.product_lists(cells, named_only)]
        parsed = list(map(products.products_of, cells.to_list()))
        lines = list({product for listed in parsed for product, _ in listed})
        found_of = dict(zip(lines, self.kernel.scan_ids(lines)))
        strong = self.kernel.strong_flags()
        out: list[_Products | None] = []
        for listed in parsed:
            found = tuple(found_of[product] for product, _ in listed)
            out.append(_Products(found, tuple(effective_shares(listed)), tuple(listed), any(strong[h] for h in found))
                       if any(found) else None)
        return out

    def _product_keys(self, products: _ProductCells, rows: pl.Series) -> tuple[pl.Series, list[_Products]]:
        """(key of each of `rows`' product cell, the scanned product list of each key). Key 0 (no product line
        has a hit) stands for every such list, since it changes nothing in `classify`: shares only weigh lines
        with hits, evidence only names those."""
        cells = products.index.gather(rows)
        wanted = cells.unique(maintain_order=True)
        wanted = wanted.filter(products.may_hit.gather(wanted))
        lists, keys = [_NO_LINES], []
        # the rules' evidence names only lines with a hit; the learned layer reads every line's words (placement_model)
        for listed in self._listed(products, wanted, named_only=self.classifier.model is None):
            if listed is None:
                keys.append(0)
            else:
                keys.append(len(lists))
                lists.append(listed)
        key_of = pl.zeros(products.distinct.len(), dtype=pl.UInt32, eager=True).scatter(
            wanted, pl.Series(keys, dtype=pl.UInt32))
        return key_of.gather(cells), lists

    def _supplied_keys(self, cells: pl.Series, supplied_of: SuppliedOf) -> tuple[pl.Series, list[_Products]]:
        """(key of each supplied-components cell, the scanned list of each key; key 0: no component has a hit).
        Supply relations come from the database only (small batches): every cell is read."""
        distinct, index = distinct_texts(cells)
        parsed = list(map(supplied_of, distinct.to_list()))
        supplied_text = self.classifier.supplied_text
        texts = list({supplied_text(line) for lines in parsed for line in lines})
        found_of = dict(zip(texts, self.kernel.scan_ids(texts)))
        strong = self.kernel.strong_flags()
        lists, keys = [_NO_LINES], []
        for lines in parsed:
            found = tuple(found_of[supplied_text(line)] for line in lines)
            if any(found):
                keys.append(len(lists))
                # components weigh by word, not by share (the kernel reads a share per line all the same)
                lists.append(_Products(found, (0.0,) * len(lines), tuple(lines), any(strong[h] for h in found)))
            else:
                keys.append(0)
        return pl.Series(keys, dtype=pl.UInt32).gather(index), lists

    def _industry(self, frame: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
        """(industry hit id, prior key as `classify` uses it, whether that key gives any prior) per row, from its
        industry and industry_code: a non-numeric code is read as industry text, as `classify` does."""
        pairs, index = distinct_rows(frame.select("industry", "industry_code"))
        texts, keys, has_prior = [], [], []
        clf = self.classifier
        for industry, raw in pairs.iter_rows():
            code = raw.strip()
            if code and not code.isdigit():
                industry, code = f"{industry} {code}".strip(), ""
            texts.append(industry)
            keys.append(key := clf.prior_key(code, industry))
            has_prior.append(bool(clf.priors(key)))
        industry_hid = self._hit_ids(pl.Series(texts, dtype=pl.String))
        return (industry_hid.gather(index), pl.Series(keys, dtype=pl.String).gather(index),
                pl.Series(has_prior, dtype=pl.Boolean).gather(index))

    # ------------------------------------------------------------------ batch

    def classify_frame(self, frame: pl.DataFrame, products_of: ProductsOf | None = None,
                       supplied_of: SuppliedOf | None = None) -> pl.DataFrame:
        """Placements of every row of `frame` (INPUT_COLUMNS), as a frame of RESULT_COLUMNS; products cells are
        parsed with `parse_products` unless `products_of` maps them to product lists. A "supplied" column, with
        `supplied_of` mapping its cells to (component, customer) lists, gives each firm's supply relations."""
        with _collector_paused():
            return self._classify_frame(frame, products_of, supplied_of)

    def _classify_frame(self, frame: pl.DataFrame, products_of: ProductsOf | None,
                        supplied_of: SuppliedOf | None) -> pl.DataFrame:
        supplied_cells = frame["supplied"].cast(pl.String).fill_null("") if supplied_of is not None else None
        # the scopes' hit list ids where the reader has scanned them (`scope_ids`), else their text's
        scope_hid = (frame["scope_hid"] if "scope_hid" in frame.columns
                     else self._hit_ids(frame["scope"].cast(pl.String).fill_null("")))
        frame = frame.select(pl.col(c).cast(pl.String).fill_null("") for c in INPUT_COLUMNS if c != "scope")
        products = self._product_cells(frame["products"], products_of)
        industry_hid, prior_key, has_prior = self._industry(frame)
        supplied_key, supplied_lists = (self._supplied_keys(supplied_cells, supplied_of) if supplied_cells is not None
                                        else (pl.zeros(frame.height, dtype=pl.UInt32, eager=True), [_NO_LINES]))
        keys = pl.DataFrame({
            "row": pl.int_range(frame.height, eager=True, dtype=pl.UInt32),
            "scope_hid": scope_hid,
            "industry_hid": industry_hid,
            "prior_key": prior_key,
            "supplied_key": supplied_key,
        })
        supplied_strong = pl.Series([p.strong for p in supplied_lists], dtype=pl.Boolean).gather(supplied_key)
        strong = self._strong()
        others = (
            strong.gather(keys["scope_hid"]) | strong.gather(keys["industry_hid"])
            | products.strong.gather(products.index) | supplied_strong
        )
        if self.classifier.model is not None:
            # The learned layer also weighs firms whose product lines have weak words only (`segment_views`).
            others = others | self._cell_flags(products, products.may_hit.arg_true(), strong=False).gather(
                products.index)
        # a prior lets weak words count, so a firm with one has every name word scanned
        keys = keys.with_columns(name_hid=self._hit_ids(frame["name"], others | has_prior))
        # The engine's early exit: no strong hit in any field (nor, with a model, a product line hit) and no prior
        # where the firm has a hit, no placement. Product cells are read for that only for firms with a prior and
        # no strong hit.
        candidate = others | self._strong().gather(keys["name_hid"])
        unsure = (has_prior & ~candidate).arg_true()
        if unsure.len():
            cells = products.index.gather(unsure).unique()
            product_hit = self._cell_flags(products, cells.filter(products.may_hit.gather(cells)), strong=False)
            any_hit = ((keys["name_hid"] != 0) | product_hit.gather(products.index) | (keys["scope_hid"] != 0)
                       | (keys["industry_hid"] != 0) | (keys["supplied_key"] != 0))
            candidate = candidate | (has_prior & any_hit)
        keys = keys.filter(candidate)
        products_key, lists = self._product_keys(products, keys["row"])
        # the supplied lists follow the product lists in the one list of lines the kernel reads
        offset = len(lists) - 1
        lists.extend(supplied_lists[1:])
        keys = keys.with_columns(
            products_key=products_key,
            supplied_key=pl.when(pl.col("supplied_key") > 0).then(pl.col("supplied_key") + offset).otherwise(0),
        )
        signatures, sig = distinct_rows(keys.select(_SIGNATURE))
        columns = [signatures[c].to_list() for c in _SIGNATURE]
        placements = pl.DataFrame(self.kernel.place_signatures(*columns, lists), schema=_PLACEMENTS)
        if self.classifier.model is not None:
            # The rules' placements stand where they place a firm clearly (`placement_model.rules_decide`, on the
            # same rounded score); `Classifier.decide` applies the model to every other signature at once.
            clear = placements.filter((pl.col("rank") == 0) & (pl.col("score") >= RULES_DECIDE_FROM))["sig"]
            kept = set(clear.to_list())
            unclear = [i for i in range(signatures.height) if i not in kept]
            decided = pl.DataFrame(self._decide_signatures(*([col[i] for i in unclear] for col in columns), lists),
                                   schema=_PLACEMENTS)
            decided = decided.with_columns(sig=pl.Series(unclear, dtype=pl.UInt32).gather(decided["sig"]))
            placements = pl.concat([placements.filter(pl.col("sig").is_in(clear.implode())), decided])
        placed = keys.select("row", sig=sig).join(placements, on="sig", how="inner").sort("row", "rank")
        result = placed.with_columns(id=frame["id"].gather(placed["row"])).select(RESULT_COLUMNS)
        if self.classifier.fallback_segments:
            result = self._with_fallback(result, frame, scope_hid, products, supplied_cells, supplied_of)
        return result

    def _with_fallback(self, result: pl.DataFrame, frame: pl.DataFrame, scope_hid: pl.Series, products: _ProductCells,
                       supplied_cells: pl.Series | None, supplied_of: SuppliedOf | None) -> pl.DataFrame:
        """`result` with the fallback placements (`Classifier.fallback`) of the firms it places nowhere whose product
        cell has a generic line: those few firms are placed by `Classifier.classify` itself (scanning with the kernel),
        so their placements are the engine's by construction. A generic line has a hit (`Classifier.fallback`), so
        only cells with one that hold a generic word are read."""
        clf = self.classifier
        unplaced = pl.repeat(True, frame.height, dtype=pl.Boolean, eager=True).scatter(result["row"], False)
        rows = (unplaced & products.may_hit.gather(products.index)).arg_true()
        if not rows.len():
            return result
        cells = products.index.gather(rows).unique()
        if products.products_of is None:  # cell text holds its lines' words (keys of lines given are all read)
            cells = cells.filter(self._may_hit(products.distinct.gather(cells),
                                               sorted({*clf.fallback_words, *clf.fallback_lines})))
        generic: dict[int, tuple] = {}  # distinct cell → its lines, where one with a hit is generic
        for cell, listed in zip(cells.to_list(), self._listed(products, cells)):
            if listed is not None and clf.generic_lines([line for line, hid in zip(listed.lines, listed.found) if hid]):
                generic[cell] = listed.lines
        if not generic:
            return result
        firm_cells = products.index.gather(rows)
        rows = rows.filter(firm_cells.is_in(pl.Series(list(generic), dtype=firm_cells.dtype).implode()))
        cols: dict[str, list] = {c: [] for c in RESULT_COLUMNS}
        scan, hit_list = self.kernel.scan, self.kernel.hit_list
        firms = frame.select("id", "name", "industry_code", "industry").gather(rows).iter_rows()
        for row, cell, scope, (fid, name, code, industry) in zip(
                rows.to_list(), products.index.gather(rows).to_list(), scope_hid.gather(rows).to_list(), firms):
            supplied = supplied_of(supplied_cells[row]) if supplied_of is not None and supplied_cells is not None else ()
            record = Record(fid, name, generic[cell], "", code, industry, supplied)
            for p in clf.classify(record, scan, scope_hits=hit_list(scope)):
                evidence = json.dumps(p.evidence, ensure_ascii=False, separators=(",", ":"))
                for c, v in zip(RESULT_COLUMNS, (row, p.id, p.node_id, p.node_name, p.score, p.confidence,
                                                 '"' + evidence.replace('"', '""') + '"' if self.csv_evidence
                                                 else evidence, f"{p.score:.3f}")):
                    cols[c].append(v)
        if not cols["row"]:
            return result
        return pl.concat([result, pl.DataFrame(cols, schema=result.schema)]).sort("row", maintain_order=True)

    def _decide_signatures(self, name_hids: list[int], products_keys: list[int], scope_hids: list[int],
                           industry_hids: list[int], codes: list[str], supplied_keys: list[int],
                           lists: list[_Products]) -> dict[str, list]:
        """`Kernel.place_signatures` (the same columns) through `Classifier.decide`, which applies the chain's
        model to every signature's candidates at once, exactly as `classify` applies it to one firm."""
        clf, hit_list = self.classifier, self.kernel.hit_list
        firms = []
        for name, key, scope, industry, code, skey in zip(name_hids, products_keys, scope_hids, industry_hids, codes,
                                                          supplied_keys):
            listed, supplied = lists[key], lists[skey]
            shares = listed.shares
            fields = (clf.field_parts(0, (hit_list(name),), shares),
                      clf.field_parts(1, [hit_list(h) for h in listed.found], shares),
                      clf.field_parts(2, (hit_list(scope),), shares), clf.field_parts(3, (hit_list(industry),), shares),
                      clf.field_parts(4, [hit_list(h) for h in supplied.found], shares))
            firms.append(Firm(fields, shares, clf.priors(code), listed.lines, code, supplied.lines))
        cols: dict[str, list] = {c: [] for c in ("sig", "rank", "node_id", "node_name", "score", "confidence",
                                                  "evidence", "score_text")}
        for sig, (placed, firm) in enumerate(zip(clf.decide(firms), firms)):
            for rank, (s, seg, target, hits, probability) in enumerate(placed):
                score = round(s, 3)
                evidence = json.dumps(clf.evidence_list(hits, firm, seg, probability), ensure_ascii=False,
                                      separators=(",", ":"))
                cols["sig"].append(sig)
                cols["rank"].append(rank)
                cols["node_id"].append(clf.node_ids[target])
                cols["node_name"].append(clf.names[target])
                cols["score"].append(score)
                cols["confidence"].append(round(1.0 - math.exp(-s), 3) if probability is None
                                          else round(probability, 3))
                cols["evidence"].append('"' + evidence.replace('"', '""') + '"' if self.csv_evidence else evidence)
                cols["score_text"].append(f"{score:.3f}")
        return cols

    def classify_records(self, records: Sequence[Record]) -> list[Placement]:
        """`classify_frame` over records already in memory (product lists and supplied components given)."""
        lists: dict[str, Sequence[tuple]] = {}

        def keyed(lines: Sequence[tuple]) -> str:
            key = repr(list(lines))
            lists.setdefault(key, lines)
            return key

        frame = pl.DataFrame({
            "id": [r.id for r in records], "name": [r.name for r in records],
            "products": [keyed(r.products) for r in records],
            "scope": [r.scope for r in records], "industry_code": [r.industry_code for r in records],
            "industry": [r.industry for r in records], "supplied": [keyed(r.supplied) for r in records],
        }, schema=dict.fromkeys((*INPUT_COLUMNS, "supplied"), pl.String))
        return placements_of(self.classify_frame(frame, lists.__getitem__, lists.__getitem__))


def distinct_rows(frame: pl.DataFrame, hashes: pl.Series | None = None) -> tuple[pl.DataFrame, pl.Series]:
    """(the distinct rows of a frame, each row's index into them). Grouping rows by a 64-bit hash of their values
    costs half of a hash table of the values themselves; every row is then compared with its group's first one,
    and only if a collision put two different rows together are they grouped by value (`hashes`: given by a
    test)."""
    hashes = frame.hash_rows(seed=0) if hashes is None else hashes
    groups = hashes.to_frame("h").with_row_index("i").group_by("h", maintain_order=True).agg(pl.col("i").first())
    # each row's group number by a join on the hash (a third less than replace_strict over 200,000 product cells)
    index = hashes.to_frame("h").join(groups.select("h").with_row_index("k"), on="h", how="left",
                                      maintain_order="left")["k"].cast(pl.UInt32).alias(hashes.name)
    distinct = frame[groups["i"]]
    if distinct[index].equals(frame):
        return distinct, index
    distinct = frame.unique(maintain_order=True)
    index = frame.join(distinct.with_row_index("_index"), on=frame.columns, how="left", maintain_order="left",
                       nulls_equal=True)["_index"]
    return distinct, index


def _spread(mask: pl.Series, values: pl.Series) -> pl.Series:
    """`values` at the rows where `mask` holds, in order, and 0 at the others."""
    return pl.zeros(mask.len(), dtype=values.dtype, eager=True).scatter(mask.arg_true(), values)


def distinct_texts(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """`distinct_rows` of one text column."""
    distinct, index = distinct_rows(values.to_frame())
    return distinct.to_series(), index


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A batch builds hundreds of thousands of product lists and line tuples that form no reference cycles; the
    cyclic collector's passes over them cost time and free nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class _ProductCells:
    """A frame's distinct product cells (or every row's, where nearly all are distinct), read as far as placing its
    firms needs (`BatchClassifier._product_cells`)."""

    distinct: pl.Series
    index: pl.Series  # each row's distinct cell
    may_hit: pl.Series  # by distinct cell: whether it holds a chain word at all (where `read`: has a hit)
    products_of: ProductsOf | None
    strong: pl.Series | None = None  # by distinct cell: whether a line has a strong hit
    read: bool = False  # every cell was read: may_hit says whether it has a hit  # by distinct cell: whether a line has a strong hit


class CleanUp(NamedTuple):
    """A text column's clean-up (ingest's `clean_column`), which leaves every text as it is but those the placement
    kernel's `may_change` holds for with `short` (200,000 registry scopes, 91 MB: its own pass took ≈ 0.04 s)."""

    column: Callable[[pl.Series], pl.Series]
    short: int


class _Products(NamedTuple):
    """One distinct product list (or supplied-components list) as the kernel places it, with what its evidence
    names."""

    found: tuple[int, ...]  # the hit list id of each line (`Kernel.scan_ids`)
    shares: tuple[float, ...]  # effective revenue share of each line (0.0 for supplied components)
    # (product, share as given) or (component, customer); None for a product line without a hit in a list read
    # for the rules alone (`_product_keys`)
    lines: tuple[tuple[str, float | str | None] | None, ...]
    strong: bool  # some line has a strong hit


_NO_LINES = _Products((), (), (), False)  # key 0: no line has a hit


def placements_of(result: pl.DataFrame) -> list[Placement]:
    """The result frame as `Placement`s (for comparisons and small callers)."""
    out = []
    for i, n, nm, s, c, e in result.select(RESULT_COLUMNS[1:7]).iter_rows():
        evidence = json.loads(e)
        out.append(Placement(id=i, node_id=n, node_name=nm, score=s, confidence=c, evidence=evidence,
                             share=placement_share(evidence)))
    return out


# ---------------------------------------------------------------------- several cores


MIN_ROWS_PER_PROCESS = 100_000  # ≈ 0.4 s of placing: fewer cost less than a worker's start (≈ 0.3 s) and transfer


def processes_for(rows: int, workers: int) -> int:
    """How many processes `classify_frame_parallel` uses: at most `workers`, each with MIN_ROWS_PER_PROCESS rows."""
    return max(1, min(workers, rows // MIN_ROWS_PER_PROCESS))


def classify_frame_parallel(chain: Chain, frame: pl.DataFrame, workers: int = 1, csv_evidence: bool = False
                            ) -> pl.DataFrame:
    """`classify_frame` spread over `workers` processes, results in input order (csv_evidence: as for
    `BatchClassifier`).

    Rows are dealt out by their product cell, not in ranges: firms sharing a product list (the bulk of the
    distinct signatures) then fall to the same worker, so no signature is placed twice. Each worker is a fresh
    `python -m` process that loads only this module (polars' thread pool does not survive a fork, and a spawned
    multiprocessing child would re-import the whole CLI); parts and results travel as Arrow IPC files.
    `chainatlas classify` uses this for inputs it cannot split by byte range (XLSX, Parquet, other encodings, a
    title above the header, a quoted cell across a cut); a plain CSV is read by the workers themselves.
    """
    workers = processes_for(frame.height, workers)
    if workers <= 1:
        return BatchClassifier(chain, csv_evidence).classify_frame(frame)
    parts = (
        frame.select(INPUT_COLUMNS).with_row_index("input_row")
        .with_columns(part=pl.col("products").hash(seed=0) % workers)
        .partition_by("part", include_key=False)
    )
    with tempfile.TemporaryDirectory(prefix="chainatlas-classify-") as tmp:
        running = []
        for k, part in enumerate(parts):
            source, target = Path(tmp) / f"part{k}.arrow", Path(tmp) / f"placed{k}.arrow"
            part.write_ipc(source)
            command = [sys.executable, "-m", __name__, str(chain.path), str(source), str(target),
                       str(int(csv_evidence))]
            running.append((subprocess.Popen(command), target))
        results = []
        for process, target in running:
            if process.wait() != 0:
                raise RuntimeError(f"挂链子进程失败，退出码 {process.returncode} (classify worker failed)")
            results.append(pl.read_ipc(target))
    # Each firm's placements come from one worker, best first; a stable sort by row keeps that order.
    return pl.concat(results).sort("row", maintain_order=True)


def _worker(chain_path: str, source: str, target: str, csv_evidence: str) -> None:
    part = pl.read_ipc(source)
    result = BatchClassifier(load_chain(chain_path), csv_evidence == "1").classify_frame(part)
    result.with_columns(row=part["input_row"].gather(result["row"])).write_ipc(target)


if __name__ == "__main__":
    _worker(*sys.argv[1:5])
