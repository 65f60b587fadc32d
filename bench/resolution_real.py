"""Entity resolution on two real lists of the same firms (issue 25). Prints figures; run:
    .venv/bin/python bench/resolution_real.py [--variant codes|codes+short] [--record]

Into an empty database: the Tushare 2024 A-share list (short names such as 云南白药, with stock codes and cities),
then the 2016 company-info list of the same market with its stock-code column removed (full names such as
云南白药集团股份有限公司, English names, province, addresses). The removed codes are the truth: a 2016 row whose code
is in the 2024 list is that firm. Variant `codes+short` also removes the 2016 short-name column (sname), so only the
full names are left to read the 2024 short names from.

Reported, overall and for the pairs whose 2024 short name is readable in the 2016 full name (its characters in
order, ST/*ST and a trailing share-class letter dropped):
  correct    the 2016 row was merged (exactly or by splink) into its own 2024 firm
  wrong      merged into another firm (rows without a 2024 firm count here when merged at all)
  separate   left a firm of its own (then: whether the true pair waits in the review queue)
  queued     pairs the import put in the review queue (against the incoming row count)

The truth pairs are split in two halves by a hash of the stock code (HOLDOUT below, fixed before any tuning):
`tune` is what the resolver may be tuned on, `holdout` is scored once at the end — its figures (and the overall
ones, which contain it) are printed only with `--holdout`. Nothing here feeds the resolver; bench/fit_linkage.py
estimates the model's m/u from the tune half only.

`--mu prior` runs the resolver with the reasoned m/u values (linkage.PRIOR) instead of the shipped estimates
(data/linkage_fit.yaml), to compare the two.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path

from chainatlas.engines.stats import wilson_interval

HOLDOUT_SALT = "issue-25-holdout"  # frozen with the first commit of this file; do not change after tuning


def half(code: str) -> str:
    """'holdout' for a seeded half of the stock codes, 'tune' for the other."""
    digest = hashlib.sha256(f"{HOLDOUT_SALT}:{code}".encode()).digest()
    return "holdout" if digest[0] % 2 else "tune"


_SHORT_PREFIX = re.compile(r"^(?:S\*ST|\*ST|SST|ST|S(?=[\u4e00-\u9fff]))")
_SHARE_CLASS = re.compile(r"[AB]$")


def readable(short: str, full: str) -> bool:
    """The short name's characters, in order, in the full name (ST/*ST and a share-class letter dropped)."""
    chars = iter(full)
    return all(ch in chars for ch in _SHARE_CLASS.sub("", _SHORT_PREFIX.sub("", short.replace(" ", ""))))


def _shared_data() -> Path:
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(os.environ.get("CHAINATLAS_SHARED_DATA", default))


def _interval(k: int, n: int) -> str:
    """Wilson 95 % interval of k/n, in percent."""
    if n == 0:
        return "n/a"
    lo, hi = wilson_interval(k, n)
    return f"{100 * lo:.1f}–{100 * hi:.1f} %"


def run(variant: str) -> dict:
    from sqlalchemy import select

    from chainatlas.ingest.names import name_key
    from chainatlas.services.ingest.imports import import_enterprises
    from chainatlas.store import db
    from chainatlas.store.models import Enterprise, EnterpriseAlias, MergeCandidate

    data = _shared_data() / "listed_companies"
    work = Path(tempfile.mkdtemp(prefix="resolution-real-"))
    url = f"sqlite:///{work / 'real.db'}"
    db.migrate(url)
    dropped = {"stock_code"} | ({"sname"} if variant == "codes+short" else set())
    with open(data / "wfp_a_share_company_info_2016.csv", encoding="utf-8", newline="") as fh:
        rows_2016 = list(csv.DictReader(fh))
    incoming = work / "company_info_2016.csv"
    with open(incoming, "w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, [c for c in rows_2016[0] if c not in dropped], extrasaction="ignore")
        out.writeheader()
        out.writerows(rows_2016)
    with open(data / "tushare_a_share_basic_2024.csv", encoding="utf-8", newline="") as fh:
        short_of = {r["symbol"]: r["name"] for r in csv.DictReader(fh)}

    t0 = time.perf_counter()
    with db.session_scope(url) as s:
        first = import_enterprises(s, data / "tushare_a_share_basic_2024.csv", units=["reg_capital=万元"])
    t1 = time.perf_counter()
    with db.session_scope(url) as s:
        second = import_enterprises(s, incoming)
    t2 = time.perf_counter()

    with db.session_scope(url) as s:
        firms = s.execute(select(Enterprise.id, Enterprise.name_norm, Enterprise.listing_code,
                                 Enterprise.merged_into_id, Enterprise.source)).all()
        merged_into = {e.id: e.merged_into_id for e in firms if e.merged_into_id}
        source = {e.id: e.source for e in firms}

        def survivor(eid: int) -> int:
            while eid in merged_into:
                eid = merged_into[eid]
            return eid

        by_listing = {e.listing_code.split(".")[0]: survivor(e.id) for e in firms if e.listing_code}
        by_norm: dict[str, int] = {e.name_norm: e.id for e in firms}
        for eid, alias in s.execute(select(EnterpriseAlias.enterprise_id, EnterpriseAlias.alias)):
            by_norm.setdefault(name_key(alias).norm, eid)
        queued = {(c.left_id, c.right_id) for c in s.scalars(
            select(MergeCandidate).where(MergeCandidate.status == "pending", MergeCandidate.batch_id == second.batch_id))}
    queued_firms = {(survivor(a), survivor(b)) for a, b in queued}
    first_batch = f"import:{first.batch_id}"

    groups = {key: {"rows": 0, "correct": 0, "wrong": 0, "separate": 0, "separate_queued": 0}
              for key in ("all", "readable", "tune", "tune_readable", "holdout", "holdout_readable")}
    no_truth = {"rows": 0, "wrong": 0}
    half_of_firm: dict[int, str] = {}
    held = 0
    for row in rows_2016:
        name = row["name"] or (row["sname"] if "sname" not in dropped else "")
        eid = by_norm.get(name_key(name).norm) if name else None
        if eid is None:  # a row without a name is held back by the import
            held += 1
            continue
        eid = survivor(eid)
        target = by_listing.get(row["stock_code"])
        if source.get(eid) != first_batch:  # a 2016 firm of its own: which half its queued pairs count in
            half_of_firm[eid] = "none" if target is None else half(row["stock_code"])
        if target is None:
            no_truth["rows"] += 1
            no_truth["wrong"] += source.get(eid) == first_batch
            continue
        keys = ["all", half(row["stock_code"])]
        if readable(short_of[row["stock_code"]], row["name"]):
            keys += ["readable", f"{half(row['stock_code'])}_readable"]
        if eid == target:
            outcome = "correct"
        elif source.get(eid) == first_batch:
            outcome = "wrong"
        else:
            outcome = "separate"
        for key in keys:
            g = groups[key]
            g["rows"] += 1
            g[outcome] += 1
            if outcome == "separate" and ((eid, target) in queued_firms or (target, eid) in queued_firms):
                g["separate_queued"] += 1
    incoming_rows = len(rows_2016)
    wrong_total = groups["all"]["wrong"] + no_truth["wrong"]
    # the tune side alone: its rows and the rows without a 2024 firm (in neither half), their wrong merges and
    # queued pairs
    tune_rows = groups["tune"]["rows"] + no_truth["rows"]
    tune_queued = sum(1 for pair in queued_firms
                      if any(half_of_firm.get(x) in ("tune", "none") for x in pair))
    return {
        "database": str(work / "real.db"), "variant": variant, "incoming_rows": incoming_rows, "stored_before": first.rows_inserted,
        "seconds_2024": round(t1 - t0, 1), "seconds_2016": round(t2 - t1, 1),
        "import_2016": {"merged_exact": second.rows_merged, "merged_splink": second.rows_linked,
                        "queued": second.rows_review, "new": second.rows_inserted},
        "groups": groups, "no_truth": no_truth, "held": held,
        "goals": {
            "readable_correct_share": round(groups["readable"]["correct"] / max(groups["readable"]["rows"], 1), 4),
            "readable_correct_interval": _interval(groups["readable"]["correct"], groups["readable"]["rows"]),
            "wrong_share_of_incoming": round(wrong_total / incoming_rows, 4),
            "queue_share_of_incoming": round(second.rows_review / incoming_rows, 4),
        },
        "tune_side": {"rows": tune_rows, "wrong": groups["tune"]["wrong"] + no_truth["wrong"], "queued": tune_queued,
                      "wrong_share": round((groups["tune"]["wrong"] + no_truth["wrong"]) / tune_rows, 4),
                      "queue_share": round(tune_queued / tune_rows, 4)},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=("codes", "codes+short"), default="codes")
    ap.add_argument("--mu", choices=("fitted", "prior"), default="fitted")
    ap.add_argument("--holdout", action="store_true", help="also print the holdout half and the overall figures")
    args = ap.parse_args()
    if args.mu == "prior":
        from chainatlas.engines import linkage

        linkage.SETTINGS = linkage.settings(None)
    result = run(args.variant)
    if not args.holdout:
        result["groups"] = {k: v for k, v in result["groups"].items() if k.startswith("tune")}
        tune = result["groups"]["tune_readable"]
        result["goals"] = {"tune_readable_correct_share": round(tune["correct"] / max(tune["rows"], 1), 4),
                           "tune_readable_correct_interval": _interval(tune["correct"], tune["rows"])}
        del result["import_2016"]  # its counts include the holdout rows
    print(json.dumps({"mu": args.mu, **result}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
