"""Estimate the linkage model's m/u probabilities from data (issue 25) and write the shipped estimates. Run:
    .venv/bin/python bench/fit_linkage.py [--write]

Data: the real public lists in ../shared/data/listed_companies. The Tushare 2024 A-share list is imported into an
empty database (its firms are the stored records); then the **tune half** of the 2016 company-info list
(`resolution_real.half`; the holdout half is never read here), with its stock-code column removed as in the
resolution bench, goes through the import up to the writing of its rows, and the records the link step would score
for those rows (`link.linkage_records`: the rows, their former names, the stored firms sharing a blocking key) are
the records of the fit.

- u: splink's `estimate_u_using_random_sampling` over pairs of an incoming and a stored record (the pairs an
  import scores; up to 10 million, seed 25), with the labelled pairs' expected share taken out.
- m: splink's `estimate_m_from_label_column`: a 2016 row and the 2024 firm with its stock code are one firm — pairs
  joined by a deterministic key (the stock code) that the import itself was not given.
- A level with fewer than `linkage.MIN_PAIRS` pairs behind an estimate keeps its reasoned value (`linkage.PRIOR`);
  so do the comparisons these lists cannot inform (the 2024 list has no address, English name or USCC; the stock
  code is the label).
- A level takes m and u from the fit together or keeps both (a fitted u beside a reasoned m weighs nothing the
  data said): a level with a count too small for either keeps both.
- The name levels for two full names (core equal, one character apart, similar, different) keep PRIOR: its m is a
  share among the pairs a level applies to, and the labelled pairs here are all a short name against a full name
  (`fits_kind`); they give the m of the short-name levels only.
- The u of place and address (LOCAL) is kept from PRIOR as well: two random listed companies are spread over the
  whole country (same county 1 in 1,500 pairs, same street address 1 in 70,000), while a bureau's database is
  mostly its own zone, where firms share counties, parks and buildings; those u estimated here would make a shared
  address in a zone near-proof of one firm. So place and address keep PRIOR (m and u, as above).

The industry-words levels' u written here is that of these two lists (two vendors' classifications); an import
computes its own from the words of the lists it meets (`linkage.industry_u`) and uses only the m from here.

Prints each level's prior and estimated m/u with the pair counts; `--write` writes src/chainatlas/data/
linkage_fit.yaml (what `linkage.SETTINGS` uses).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
from dataclasses import replace
import subprocess
import tempfile
from pathlib import Path

import yaml
from resolution_real import _shared_data, half

OUT = Path(__file__).resolve().parents[1] / "src" / "chainatlas" / "data" / "linkage_fit.yaml"
LOCAL = ("place", "address")  # comparisons whose u depends on how concentrated the database is (see above)


def fit_records() -> tuple:
    """(records with a `same_firm` column, character model, number of labelled 2016 rows)."""
    import pyarrow as pa
    from sqlalchemy import select

    from chainatlas.services.ingest import import_enterprises
    from chainatlas.services.ingest.enterprises import STEPS
    from chainatlas.services.ingest.link import linkage_records
    from chainatlas.services.ingest.source import ImportSummary
    from chainatlas.services.ingest.steps import EnterpriseLoad, run_steps
    from chainatlas.store import db
    from chainatlas.store.models import Enterprise

    data = _shared_data() / "listed_companies"
    work = Path(tempfile.mkdtemp(prefix="fit-linkage-"))
    url = f"sqlite:///{work / 'fit.db'}"
    db.migrate(url)
    with open(data / "wfp_a_share_company_info_2016.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if half(r["stock_code"]) == "tune"]
    incoming = work / "company_info_2016_tune.csv"
    with open(incoming, "w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, [c for c in rows[0] if c != "stock_code"], extrasaction="ignore")
        out.writeheader()
        out.writerows(rows)
    with db.session_scope(url) as s:
        import_enterprises(s, data / "tushare_a_share_basic_2024.csv", units=["reg_capital=万元"])
    with db.session_scope(url) as s:
        code_of = {eid: code.split(".")[0] for eid, code in s.execute(
            select(Enterprise.id, Enterprise.listing_code).where(Enterprise.listing_code.is_not(None)))}
        load = EnterpriseLoad(s, incoming, ImportSummary("enterprises", incoming.name, ""), lambda *a: None)
        upto = [step for step in STEPS[:STEPS.index(next(st for st in STEPS if st.name == "link"))]]
        run_steps(upto, load)
        new = load.new_records()
        table, model, _ = linkage_records(s, load.new_firms())
        for rec, eid in zip(new, load.ids):
            row = rows[load.table.row_numbers[rec.row] - 2]  # file row 2 is the first data row
            assert row["name"] == rec.name or row["sname"] == rec.name, (row["name"], rec.name)
            code_of[eid] = row["stock_code"]
        s.rollback()
    ids, new_ids = table.column("id").to_pylist(), set(load.ids)
    labels = [code_of.get(eid) for eid in ids]
    # a labelled pair: a 2016 row and its 2024 firm, both among the records
    labelled = len({code_of[e] for e in ids if e in new_ids} & {code_of.get(e) for e in ids if e not in new_ids})
    return table.append_column("same_firm", pa.array(labels, pa.string())), model, labelled


def fits_kind(level) -> bool:
    """Whether the labelled pairs are of the kind the level is about. PRIOR's m of a name level is its share among
    the pairs it applies to (a short name against a full name; two full names), and these pairs are all a short name
    against a full name: they give the m of the short-name levels, not of the levels for two full names."""
    return level.comparison != "name_core" or "简称" in level.label


def main() -> None:
    from chainatlas.engines import linkage

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help=f"write {OUT.name}")
    args = ap.parse_args()
    records, model, labelled = fit_records()
    fits = [f if f.m is not None and f.u is not None and f.comparison not in LOCAL and fits_kind(f)
            else replace(f, m=None, u=None) for f in linkage.fit(records, model, "same_firm")]
    incoming = sum(records.column("is_new").to_pylist())
    pairs = min(1e7, incoming * (records.num_rows - incoming))
    prior = {(c["output_column_name"], lv["label_for_charts"]): lv for c in linkage.PRIOR["comparisons"]
             for lv in c["comparison_levels"] if not lv.get("is_null_level")}
    print(f"records {records.num_rows}, labelled pairs {labelled}")
    print("comparison | level | prior m → fitted m (pairs) | prior u → fitted u (pairs)")
    for f in fits:
        p = prior[(f.comparison, f.label)]
        print(f"{f.comparison} | {f.label} | {p['m_probability']:.4g} → {f.m if f.m is None else f'{f.m:.4g}'} "
              f"({f.m_pairs}) | {p['u_probability']:.3g} → {f.u if f.u is None else f'{f.u:.3g}'} ({f.u_pairs})")
    if not args.write:
        return
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    comparisons: dict = {}
    for f in fits:
        level = {k: round(v, 8) for k, v in (("m", f.m), ("u", f.u)) if v is not None}
        comparisons.setdefault(f.comparison, {})[f.label] = {**level, "m_pairs": f.m_pairs, "u_pairs": f.u_pairs}
    header = (
        "# m/u probabilities of the linkage model (engines/linkage.py), estimated from data by splink's own\n"
        "# estimators; written by bench/fit_linkage.py — its docstring says how. Data: the Tushare 2024 A-share list\n"
        "# (stored firms) and the tune half of the 2016 A-share company-info list without its stock codes, both in\n"
        f"# ../shared/data/listed_companies (see SOURCES.md). u: random sampling of {pairs:,.0f} pairs of an incoming\n"
        f"# and a stored record ({records.num_rows:,} records), the labelled pairs' share taken out.\n"
        "# m: labelled pairs — a 2016 row and the 2024 firm with its stock code are one firm.\n"
        "# A level without m and u here keeps both reasoned values in linkage.PRIOR: fewer than\n"
        f"# {linkage.MIN_PAIRS} pairs behind either estimate (m_pairs: labelled pairs in the level; u_pairs: sampled\n"
        "# pairs of different firms), a name level for two full names (the labelled pairs are a short name against a\n"
        f"# full name), or {' and '.join(LOCAL)} (the lists span the country; a bureau's database is mostly its zone).\n"
    )
    body = {"fitted_on": dt.date.today().isoformat(), "code": commit, "records": records.num_rows,
            "labelled_pairs": labelled, "comparisons": comparisons}
    OUT.write_text(header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8")
    print(f"written {OUT}")


if __name__ == "__main__":
    main()
