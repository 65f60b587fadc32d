"""The placement kernel in pure Python: the interface of the compiled `placement_kernel.Kernel`, computed by the
engine itself (`Classifier._scan`, `Classifier.place_with_priors`), for machines where the extension could not be
built (no C compiler). Same placements, same evidence JSON, byte for byte; only slower (bench/RESULTS.md).

engines/kernel.py chooses between the two.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable, Sequence

from chainatlas.domain.products import parse_product_cells
from chainatlas.engines.classify import SUPPLIED, Classifier, Hit, effective_shares

ScanHits = tuple[tuple[int, int, int], ...]  # (word, node, strong 1/0), strong first, as `Classifier._scan`
# `product_lists`: (hit list id of each line, effective share of each line, the lines, whether a hit is strong)
ProductList = tuple[tuple[int, ...], tuple[float, ...], tuple[tuple[str, float | None] | None, ...], bool]
# `scan_column` makes the Python strings of this many cells at a time (200,000 scopes: 74 MB less peak memory,
# 10 % fewer page faults, than one list of them all).
_SLICE = 8192


def may_change(text: str, short: int) -> bool:
    """Whether ingest's clean-up (`clean_text`) may change the text: it holds a NUL, U+3000 or U+00A0, has white
    space (str.isspace) at either end, or is at most `short` bytes long (a blank word: 无, null …)."""
    return (len(text) <= short and len(text.encode()) <= short) or text[:1].isspace() or text[-1:].isspace() \
        or "\x00" in text or "\u3000" in text or "\xa0" in text


class Kernel:
    """One `Classifier`'s scan and placement rules behind the compiled kernel's methods (one per process)."""

    def __init__(self, classifier: Classifier, csv: bool = False) -> None:
        """csv: `place_signatures` gives each evidence list as the CSV field that minimal quoting writes for its
        JSON (see the compiled kernel)."""
        self.classifier = classifier
        self.csv = csv
        self._ids: dict[ScanHits, int] = {(): 0}  # interned hit lists, id 0 the empty one
        self._lists: list[ScanHits] = [()]
        self._strong: list[int] = [0]
        self._fragments: dict[tuple, str] = {}  # evidence entry → its JSON (or CSV-escaped JSON)
        self._product_ids: dict[str, int] = {}  # product line text → its hit list id (a registry's lines repeat)
        self._cells: dict[str, ProductList | None] = {}  # product cell text → `product_lists` of it

    def normalised(self, text: str) -> str:
        """The text as the scan reads it (NFKC, lower case)."""
        return unicodedata.normalize("NFKC", text).lower()

    def scan(self, text: str) -> ScanHits:
        """Exactly `Classifier._scan(text)`."""
        return self.classifier._scan(text)

    def scan_ids(self, texts: list[str]) -> list[int]:
        """The interned hit list id of each text's `scan` (equal lists, equal ids; 0 for no hit)."""
        ids = []
        for text in texts:
            hits = self.classifier._scan(text)
            hid = self._ids.get(hits)
            if hid is None:
                hid = self._ids[hits] = len(self._lists)
                self._lists.append(hits)
                self._strong.append(1 if hits and hits[0][2] else 0)
            ids.append(hid)
        return ids

    def scan_column(self, values, short: int = -1) -> list[int]:
        """`scan_ids` of a text column (a polars Series; a null cell reads as ""), a slice of Python strings at a
        time (each slice freed before the next is made). short >= 0: -1 for a text `may_change` holds for (see the
        compiled kernel)."""
        values = values.fill_null("")
        ids = []
        for start in range(0, values.len(), _SLICE):
            texts = values.slice(start, _SLICE).to_list()
            ids.extend(-1 if short >= 0 and may_change(text, short) else h
                       for text, h in zip(texts, self.scan_ids(texts)))
        return ids

    def product_flags(self, values) -> list[int]:
        """By product cell of a text column (a polars Series; a null cell reads as ""): 1 when a line of it
        (`parse_products`) has a hit, 3 when one has a strong hit, else 0."""
        return [0 if listed is None else 3 if listed[3] else 1 for listed in self.product_lists(values)]

    def product_lists(self, values, named_only: bool = False) -> list[ProductList | None]:
        """By product cell of a text column (as `product_flags` reads it): None when no line of it has a hit, else
        (the hit list id of each line's product, each line's `effective_shares`, its lines as `parse_products`
        gives them, whether some hit is strong); named_only: a line without a hit (evidence never names one) is
        None, as the compiled kernel gives it. Each cell is read once (the batch engine asks for the flags of a
        cell, then for the lists of the placed firms' cells)."""
        texts = values.fill_null("").to_list()
        known, found_of = self._cells, self._product_ids
        if len(known) > 500_000 or len(found_of) > 500_000:  # bound memory on endless distinct cells
            known.clear()
            found_of.clear()
        todo = [text for text in dict.fromkeys(texts) if text not in known]
        cells = parse_product_cells(todo)
        products = list({product for lines in cells for product, _ in lines if product not in found_of})
        found_of.update(zip(products, self.scan_ids(products)))
        strong = self._strong
        for text, lines in zip(todo, cells):
            found = tuple(found_of[product] for product, _ in lines)
            known[text] = (found, tuple(effective_shares(lines)), tuple(lines), any(strong[h] for h in found)) \
                if any(found) else None
        if named_only:
            return [None if listed is None else
                    (listed[0], listed[1], tuple(line if h else None for line, h in zip(listed[2], listed[0])),
                     listed[3]) for listed in (known[text] for text in texts)]
        return [known[text] for text in texts]

    def hit_list(self, hid: int) -> ScanHits:
        """The hits of interned list `hid`, as `scan` gave them (for the learned layer, classify_batch)."""
        return self._lists[hid]

    def strong_flags(self) -> list[int]:
        """By hit list id: whether the list has a strong hit (strong hits come first)."""
        return list(self._strong)

    def place(self, name: ScanHits, lines: tuple[ScanHits, ...], scope: ScanHits, industry: ScanHits,
              shares: tuple[float, ...], prior_of: dict[int, float], supplied: tuple[ScanHits, ...] = ()
              ) -> list[tuple[float, int, int, list[Hit]]]:
        """Exactly `Classifier.place` for a firm given by its scanned hits (name, product lines, scope, industry,
        supplied components) and its priors by segment."""
        clf = self.classifier
        fields = (clf.field_parts(0, (name,), shares), clf.field_parts(1, lines, shares),
                  clf.field_parts(2, (scope,), shares), clf.field_parts(3, (industry,), shares),
                  clf.field_parts(4, supplied, shares))
        return clf.place_with_priors(fields, shares, prior_of)

    def place_signatures(self, name_hids: list[int], products_keys: list[int], scope_hids: list[int],
                         industry_hids: list[int], codes: list[str], supplied_keys: list[int], products: list
                         ) -> dict[str, list]:
        """Placements of each signature, as columns: sig, rank, node_id, node_name, score, confidence, evidence
        (JSON as `classify` gives it), score_text. codes: prior keys (`Classifier.prior_key`). products: by key,
        (hit list id of each line, effective shares, lines as (product, share), ...): the product lists, and the
        supplied lists ((component, customer) lines) that supplied_keys index."""
        clf, lists = self.classifier, self._lists
        cols: dict[str, list] = {c: [] for c in ("sig", "rank", "node_id", "node_name", "score", "confidence",
                                                  "evidence", "score_text")}
        for sig, (name, key, scope, industry, code, skey) in enumerate(
                zip(name_hids, products_keys, scope_hids, industry_hids, codes, supplied_keys)):
            found, shares, lines = products[key][0], products[key][1], products[key][2]
            supplied = products[skey]
            prior_of = clf.priors(code)
            placed = self.place(lists[name], tuple(lists[h] for h in found), lists[scope], lists[industry],
                                shares, prior_of, tuple(lists[h] for h in supplied[0]))
            for rank, (s, seg, target, evidence) in enumerate(placed):
                score = round(s, 3)
                cols["sig"].append(sig)
                cols["rank"].append(rank)
                cols["node_id"].append(clf.node_ids[target])
                cols["node_name"].append(clf.names[target])
                cols["score"].append(score)
                cols["confidence"].append(round(1.0 - math.exp(-s), 3))
                cols["evidence"].append(self._evidence_json(evidence, (lines, supplied[2]),
                                                            (code, seg) if seg in prior_of else None))
                cols["score_text"].append(f"{score:.3f}")
        return cols

    def _evidence_json(self, evidence: Sequence[Hit], lines: tuple[Sequence[tuple], Sequence[tuple]],
                       prior: tuple[str, int] | None) -> str:
        """The evidence as `classify` gives it: its entries' JSON, equal entries once, the priors last. lines: the
        product lines and the supplied (component, customer) lines the hits index."""
        entries: list[str] = []
        for fld, item, wi, n, strong in evidence:
            line = lines[0][item] if fld == 1 else lines[1][item] if fld == SUPPLIED else None
            text = self._fragment((fld, wi, n, strong, line),
                                  lambda: self.classifier.evidence_entry(fld, wi, n, strong, line))
            if text not in entries:
                entries.append(text)
        if prior is not None:
            entries.append(self._fragment(prior, lambda: self.classifier.prior_entries(*prior)))
        return '"[' + ",".join(entries) + ']"' if self.csv else "[" + ",".join(entries) + "]"

    def _fragment(self, key: tuple, entry: Callable[[], dict | list[dict]]) -> str:
        """One evidence entry's JSON (CSV-escaped for csv), made once per distinct entry; a list of entries (a
        prior's sources) as their JSON texts joined by commas."""
        text = self._fragments.get(key)
        if text is None:
            made = entry()
            text = ",".join(json.dumps(e, ensure_ascii=False, separators=(",", ":"))
                            for e in (made if isinstance(made, list) else [made]))
            text = self._fragments[key] = text.replace('"', '""') if self.csv else text
        return text
