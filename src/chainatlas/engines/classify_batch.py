"""Columnar batch placement: the same placements as `Classifier.classify`, for a million firms at a time.

Why it is fast and still exact:
- A registry repeats itself: scopes, product lists and industries recur, and most names carry no chain word.
  Each *distinct* field text is handled once, and only texts that contain a chain word at all (a Rust
  Aho-Corasick pass over the whole column, `str.contains_any`) are scanned by the engine's own `_scan`.
- `Classifier.classify` is a pure function of (name hits, product list, scope hits, industry hits, GB/T code)
  — the name and scope texts matter only through their hits, a product list only when one of its lines has a
  hit. Firms sharing that *signature* get the same placements, so the engine's own `classify` runs once per
  distinct signature (on one representative firm) and the result is joined back to every firm carrying it.
  Firms with no strong hit in any field are placed nowhere, exactly as the engine's early exit decides.
- No rule is re-implemented here, so the placements (nodes, scores, evidence) cannot drift from the engine's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import polars as pl

from chainatlas.domain.chain import Chain, load_chain
from chainatlas.engines.classify import Classifier, Placement, Record, parse_products

# Columns of the frame `classify_frame` takes: the fields of `Record`, every column a string (nulls read as "");
# products is the raw cell text ("动力电池:0.82；储能系统(6%)"), or any key that `products_of` turns into the list.
INPUT_COLUMNS = ("id", "name", "products", "scope", "industry_code", "industry")
# Columns it returns: one row per placement, in input order, best first within each firm (as `classify`);
# row is the firm's 0-based row in the input frame.
RESULT_COLUMNS = ("row", "id", "node_id", "node_name", "score", "confidence", "evidence", "score_text")
ProductsOf = Callable[[str], Sequence[tuple[str, float | None]]]
_SIGNATURE = ("name_hid", "products_key", "scope_hid", "industry_hid", "code_key")


class BatchClassifier:
    """Compiled chain plus the per-distinct-text memory that makes large batches cheap; one per process."""

    def __init__(self, chain: Chain):
        self.classifier = Classifier(chain)
        # Words that can yield a hit (a node's keyword or weak keyword); a text with none of them has no hits.
        self._positive = sorted({w for w, strong, weak, _ in self.classifier.words if strong or weak})
        self._hit_id: dict[tuple[tuple[int, int, int], ...], int] = {(): 0}  # interned scan results; 0 = no hit
        self._strong: list[bool] = [False]  # by hit id: has a strong hit

    # ------------------------------------------------------------------ per distinct text

    def _may_hit(self, values: pl.Series) -> pl.Series:
        """False where a text certainly has no hit: it contains no positive word once read as `_scan` reads it
        (NFKC; case-blind for Latin letters, the only cased letters in a chain file's words)."""
        return values.str.normalize("NFKC").str.contains_any(self._positive, ascii_case_insensitive=True).fill_null(False)

    def _intern(self, hits: tuple[tuple[int, int, int], ...]) -> int:
        hid = self._hit_id.get(hits)
        if hid is None:
            hid = self._hit_id[hits] = len(self._hit_id)
            self._strong.append(bool(hits) and bool(hits[0][2]))  # `_scan` puts strong hits first
        return hid

    def _hit_ids(self, values: pl.Series) -> pl.Series:
        """Interned hit-list id of each text (0 for none)."""
        distinct = values.unique()
        texts = distinct.filter(self._may_hit(distinct)).to_list()
        scan = self.classifier._scan
        ids = [self._intern(scan(t)) for t in texts]
        return values.replace_strict(texts, ids, default=0, return_dtype=pl.UInt32)

    def _product_keys(self, cells: pl.Series, products_of: ProductsOf | None) -> tuple[pl.Series, pl.Series]:
        """(key, any strong hit) per product cell; key 0 when no product line has a hit, since such a list
        changes nothing in `classify` (shares only weigh lines with hits, evidence only names those)."""
        distinct = cells.unique()
        if products_of is None:  # cell text: its lines are pieces of it, so a cell without a chain word has no hit
            distinct = distinct.filter(self._may_hit(distinct))
        texts = distinct.to_list()
        parse, scan = products_of or parse_products, self.classifier._scan
        keys, strong = [], []
        for cell in texts:
            found = [scan(product) for product, _ in parse(cell)]
            keys.append(len(keys) + 1 if any(found) else 0)
            strong.append(any(h and h[0][2] for h in found))
        return (cells.replace_strict(texts, keys, default=0, return_dtype=pl.UInt32),
                cells.replace_strict(texts, strong, default=False, return_dtype=pl.Boolean))

    def _industry(self, frame: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
        """(industry hit id, GB/T code as `classify` uses it) per row, from its industry and industry_code:
        a non-numeric code is read as industry text, as `classify` does."""
        pairs = frame.select("industry", "industry_code").unique()
        texts, codes = [], []
        for industry, raw in pairs.iter_rows():
            code = raw.strip()
            if code and not code.isdigit():
                industry, code = f"{industry} {code}".strip(), ""
            texts.append(industry)
            codes.append(code)
        pairs = pairs.with_columns(
            industry_hid=self._hit_ids(pl.Series(texts, dtype=pl.String)), code_key=pl.Series(codes, dtype=pl.String)
        )
        joined = frame.select("industry", "industry_code").join(pairs, on=["industry", "industry_code"], how="left",
                                                                 maintain_order="left")
        return joined["industry_hid"], joined["code_key"]

    # ------------------------------------------------------------------ batch

    def classify_frame(self, frame: pl.DataFrame, products_of: ProductsOf | None = None) -> pl.DataFrame:
        """Placements of every row of `frame` (INPUT_COLUMNS), as a frame of RESULT_COLUMNS; products cells are
        parsed with `parse_products` unless `products_of` maps them to product lists."""
        frame = frame.select(pl.col(c).cast(pl.String).fill_null("") for c in INPUT_COLUMNS)
        products_key, products_strong = self._product_keys(frame["products"], products_of)
        industry_hid, code_key = self._industry(frame)
        keys = pl.DataFrame({
            "row": pl.int_range(frame.height, eager=True, dtype=pl.UInt32),
            "name_hid": self._hit_ids(frame["name"]),
            "products_key": products_key,
            "scope_hid": self._hit_ids(frame["scope"]),
            "industry_hid": industry_hid,
            "code_key": code_key,
        })
        strong = np.asarray(self._strong, dtype=bool)
        # The engine's early exit: no strong hit in any field, no placement.
        candidate = (
            strong[keys["name_hid"].to_numpy()] | strong[keys["scope_hid"].to_numpy()]
            | strong[keys["industry_hid"].to_numpy()] | products_strong.to_numpy()
        )
        keys = keys.filter(pl.Series(candidate))
        signatures = keys.group_by(_SIGNATURE).agg(pl.col("row").min().alias("example"))
        classify = self.classifier.classify
        rows: dict[str, list] = {c: [] for c in ("sig", "rank", *RESULT_COLUMNS[2:])}
        examples = frame[signatures["example"]]
        for sig, (name, products, scope, code, industry) in enumerate(
            examples.select("name", "products", "scope", "industry_code", "industry").iter_rows()
        ):
            record = Record("", name, (products_of or parse_products)(products), scope, code, industry)
            for rank, p in enumerate(classify(record)):
                rows["sig"].append(sig)
                rows["rank"].append(rank)
                rows["node_id"].append(p.node_id)
                rows["node_name"].append(p.node_name)
                rows["score"].append(p.score)
                rows["confidence"].append(p.confidence)
                rows["evidence"].append(json.dumps(p.evidence, ensure_ascii=False, separators=(",", ":")))
                rows["score_text"].append(f"{p.score:.3f}")
        placements = pl.DataFrame(rows, schema={
            "sig": pl.UInt32, "rank": pl.UInt32, "node_id": pl.String, "node_name": pl.String,
            "score": pl.Float64, "confidence": pl.Float64, "evidence": pl.String, "score_text": pl.String,
        })
        signatures = signatures.with_columns(sig=pl.int_range(signatures.height, dtype=pl.UInt32))
        placed = (
            keys.join(signatures, on=list(_SIGNATURE), how="inner")
            .join(placements, on="sig", how="inner")
            .sort("row", "rank")
        )
        return placed.with_columns(id=frame["id"].gather(placed["row"])).select(RESULT_COLUMNS)

    def classify_records(self, records: Sequence[Record]) -> list[Placement]:
        """`classify_frame` over records already in memory (product lists given, not cell text)."""
        lists: dict[str, Sequence[tuple[str, float | None]]] = {}
        keys = []
        for r in records:
            key = repr(list(r.products))
            lists.setdefault(key, r.products)
            keys.append(key)
        frame = pl.DataFrame({
            "id": [r.id for r in records], "name": [r.name for r in records], "products": keys,
            "scope": [r.scope for r in records], "industry_code": [r.industry_code for r in records],
            "industry": [r.industry for r in records],
        }, schema=dict.fromkeys(INPUT_COLUMNS, pl.String))
        return placements_of(self.classify_frame(frame, lists.__getitem__))


def placements_of(result: pl.DataFrame) -> list[Placement]:
    """The result frame as `Placement`s (for comparisons and small callers)."""
    return [
        Placement(id=i, node_id=n, node_name=nm, score=s, confidence=c, evidence=json.loads(e))
        for i, n, nm, s, c, e in result.select(RESULT_COLUMNS[1:7]).iter_rows()
    ]


# ---------------------------------------------------------------------- several cores


def classify_frame_parallel(chain: Chain, frame: pl.DataFrame, workers: int = 1) -> pl.DataFrame:
    """`classify_frame` spread over `workers` processes, results in input order.

    Rows are dealt out by their product cell, not in ranges: firms sharing a product list (the bulk of the
    distinct signatures) then fall to the same worker, so no signature is placed twice. Each worker is a fresh
    `python -m` process that loads only this module (polars' thread pool does not survive a fork, and a spawned
    multiprocessing child would re-import the whole CLI); parts and results travel as Arrow IPC files.
    """
    if workers <= 1 or frame.height < 2 * workers:
        return BatchClassifier(chain).classify_frame(frame)
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
            command = [sys.executable, "-m", __name__, str(chain.path), str(source), str(target)]
            running.append((subprocess.Popen(command), target))
        results = []
        for process, target in running:
            if process.wait() != 0:
                raise RuntimeError(f"挂链子进程失败，退出码 {process.returncode} (classify worker failed)")
            results.append(pl.read_ipc(target))
    # Each firm's placements come from one worker, best first; a stable sort by row keeps that order.
    return pl.concat(results).sort("row", maintain_order=True)


def _worker(chain_path: str, source: str, target: str) -> None:
    part = pl.read_ipc(source)
    result = BatchClassifier(load_chain(chain_path)).classify_frame(part)
    result.with_columns(row=part["input_row"].gather(result["row"])).write_ipc(target)


if __name__ == "__main__":
    _worker(*sys.argv[1:4])
