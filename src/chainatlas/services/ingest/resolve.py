"""Resolve step: each valid row → a known firm (same USCC, stock code or normalised name, English and former names
included), an earlier row of the same file, or a new firm. The probabilistic rest is the link step (link.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.ingest.names import is_latin, looks_like_full_name, name_key
from chainatlas.services.ingest.rows import FirmRecord, FirmRows, fill
from chainatlas.services.ingest.source import Progress
from chainatlas.store.models import Enterprise, EnterpriseAlias


def listing_key(code: str | None) -> str | None:
    if not code:
        return None
    digits = "".join(ch for ch in code.split(".")[0] if ch.isalnum())
    return digits or None


class FirmIndex:
    """Deterministic keys → enterprise id (a known firm's id, or -1 - k for the k-th new record of a file)."""

    def __init__(self) -> None:
        self.by_uscc: dict[str, Any] = {}
        self.by_listing: dict[str, Any] = {}
        self.by_norm: dict[str, list[Any]] = {}
        self.uscc_of: dict[Any, str | None] = {}
        self.listing_of: dict[Any, str | None] = {}

    def add(self, ref: Any, uscc: str | None, listing: str | None, norms: list[str]) -> None:
        if uscc:
            self.by_uscc.setdefault(uscc, ref)
        if listing:
            self.by_listing.setdefault(listing, ref)
        by_norm = self.by_norm
        for norm in norms:
            refs = by_norm.get(norm)
            if refs is None:
                by_norm[norm] = [ref]
            elif ref not in refs:
                refs.append(ref)
        if uscc or ref not in self.uscc_of:
            self.uscc_of[ref] = uscc
        if listing or ref not in self.listing_of:
            self.listing_of[ref] = listing

    def _conflict(self, ref: Any, uscc: str | None, listing: str | None) -> bool:
        """Two different USCCs or stock codes are two firms, whatever their names."""
        return bool((uscc and self.uscc_of.get(ref) and self.uscc_of[ref] != uscc)
                    or (listing and self.listing_of.get(ref) and self.listing_of[ref] != listing))

    def find(self, uscc: str | None, listing: str | None, norm: str) -> Any:
        if uscc and uscc in self.by_uscc:
            return self.by_uscc[uscc]
        if listing and listing in self.by_listing:
            ref = self.by_listing[listing]
            if not self._conflict(ref, uscc, None):
                return ref
        for ref in self.by_norm.get(norm, ()):
            # the same name with two different USCCs is two firms (a name reused after deregistration)
            if not self._conflict(ref, uscc, listing):
                return ref
        return None


def load_index(session: Session) -> FirmIndex:
    index = FirmIndex()
    merged: dict[int, int] = {}
    rows = session.execute(
        select(Enterprise.id, Enterprise.uscc, Enterprise.listing_code, Enterprise.name_norm, Enterprise.merged_into_id)
    ).all()
    for eid, uscc, listing, norm, merged_into in rows:
        if merged_into is not None:
            merged[eid] = merged_into
    for eid, uscc, listing, norm, merged_into in rows:
        index.add(_survivor(eid, merged), uscc, listing_key(listing), [norm] if norm else [])
    for eid, alias in session.execute(
        select(EnterpriseAlias.enterprise_id, EnterpriseAlias.alias).where(EnterpriseAlias.kind.in_(("english", "former")))
    ):
        index.add(_survivor(eid, merged), None, None, [name_key(alias).norm])
    return index


def _survivor(eid: int, merged: dict[int, int]) -> int:
    seen = set()
    while eid in merged and eid not in seen:
        seen.add(eid)
        eid = merged[eid]
    return eid


def resolve_rows(index: FirmIndex, rows: FirmRows,
             report: Progress) -> tuple[list[int | FirmRecord], dict[int, list[FirmRecord]], int]:
    """Each valid row → a known firm, an earlier row of the file, or a new firm. New firms are row numbers of
    `rows`, or a FirmRecord once a later row folded into them; returns them, the rows for known firms, and how
    many rows merged.

    A row none of whose keys (USCC, stock code, name norms) another row or a known firm shares can only be a
    new firm, and no other row can find it: only the other rows go through the index, in file order."""
    n = len(rows)
    empty: list[Any] = [None] * n
    usccs = rows.cols.get("uscc", empty)
    listing_of = {code: listing_key(code) for code in set(rows.cols.get("listing_code", ())) if code}
    listings = [listing_of.get(code) for code in rows.cols["listing_code"]] if listing_of else empty
    english: dict[str, str] = {}  # the English and former names' norms, which find a firm as its own name does
    extra: dict[int, list[str]] = {}
    for j in (j for j, found in enumerate(rows.aliases) if found):
        for alias, kind in rows.aliases[j]:
            if kind in ("english", "former"):
                key = english.get(alias)
                if key is None:
                    key = english[alias] = name_key(alias).norm
                extra.setdefault(j, []).append(key)
    shared = _shared_keys(index, rows.norm, None if usccs is empty else usccs,
                          None if listings is empty else listings, extra)
    is_new = np.ones(n, dtype=bool)
    folded: dict[int, FirmRecord] = {}  # a new firm's row → its record, once a later row folded into it
    into_existing: dict[int, list[FirmRecord]] = {}
    merged = 0
    find, add = index.find, index.add
    todo = np.flatnonzero(shared).tolist()
    for done, j in enumerate(todo):
        uscc, listing, norm = usccs[j], listings[j], rows.norm[j]
        ref = find(uscc, listing, norm)
        for other in extra.get(j, ()) if ref is None else ():  # an English or former name a firm is known by
            ref = find(uscc, listing, other)
            if ref is not None:
                break
        if ref is None:
            ref = -1 - j
        elif ref < 0:
            target = folded.get(-1 - ref)
            if target is None:
                target = folded[-1 - ref] = rows.record(-1 - ref)
            _fold_record(target, rows.record(j))
            is_new[j] = False
            merged += 1
        else:
            into_existing.setdefault(ref, []).append(rows.record(j))
            is_new[j] = False
            merged += 1
        add(ref, uscc, listing, [norm, *extra.get(j, ())])
        if done % 50_000 == 0:
            report("比对", done, len(todo))
    new_rows = np.flatnonzero(is_new)
    new: list[int | FirmRecord] = new_rows.tolist()
    for j, rec in folded.items():
        new[int(np.searchsorted(new_rows, j))] = rec
    return new, into_existing, merged


def _shared_keys(index: FirmIndex, norms: list[str], usccs: list[Any] | None, listings: list[Any] | None,
                 extra: dict[int, list[str]]) -> np.ndarray:
    """Whether each row has a key that another row or a known firm has too (norms: its name's and its English
    names'; a row naming one norm twice counts as sharing it, which only sends it the long way)."""
    n = len(norms)
    shared = np.zeros(n, dtype=bool)
    for values, known in ((usccs, index.by_uscc), (listings, index.by_listing)):
        if values is None:  # the file has no such column
            continue
        s = pl.Series(values, dtype=pl.String)
        hit = (s.is_duplicated() | s.is_in(list(known))) if known else s.is_duplicated()
        shared |= (hit & s.is_not_null()).fill_null(False).to_numpy()
    owner = list(range(n))
    keys = list(norms)
    for j, more in extra.items():
        owner += [j] * len(more)
        keys += more
    s = pl.Series(keys, dtype=pl.String)
    hit = (s.is_duplicated() | s.is_in(list(index.by_norm))) if index.by_norm else s.is_duplicated()
    rows = np.asarray(owner)[hit.to_numpy()] if extra else np.flatnonzero(hit.to_numpy())
    shared[rows] = True
    return shared


def _fold_record(target: FirmRecord, rec: FirmRecord) -> None:
    """A later row of the same firm in the same file: fill blanks, keep its other names, products, designations."""
    fill(target.values, rec.values)
    if rec.norm != target.norm:
        if not looks_like_full_name(target.name) and looks_like_full_name(rec.name):
            target.aliases.append((target.name, "short"))
            target.name, target.norm = rec.name, rec.norm
            target.values["name"], target.values["name_norm"] = rec.name, rec.norm[:200]
        else:
            target.aliases.append((rec.name[:300], "english" if is_latin(rec.name) else "other"))
    target.aliases.extend(a for a in rec.aliases if a not in target.aliases)
    have = {product for product, _ in target.products}
    target.products.extend(x for x in rec.products if x[0] not in have)
    target.designations.extend(d for d in rec.designations if d not in target.designations)
