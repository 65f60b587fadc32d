"""Link prediction and its backtest: metrics on graphs whose answer is worked out by hand, then the real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chainatlas.engines import linkpred
from chainatlas.services.targets import backtest as bt
from chainatlas.store import db
from chainatlas.store.models import Enterprise, Relation


def test_metrics_on_a_hand_ranked_row() -> None:
    # one customer, five candidates ranked by score 5 > 4 > 3 > 2 > 1; hidden suppliers sit at ranks 2 and 4
    scores = np.array([[5.0, 4.0, 3.0, 2.0, 1.0]])
    known = np.zeros((1, 5), dtype=bool)
    hidden = np.array([[False, True, False, True, False]])
    m = linkpred.ranking_metrics(scores, known, hidden, ks=(1, 2, 4))
    assert m.customers == 1 and m.hidden_edges == 2
    assert m.hit_at == {1: 0.0, 2: 0.5, 4: 1.0}
    assert m.customer_hit_at == {1: 0.0, 2: 1.0, 4: 1.0}
    assert m.recall_at == {1: 0.0, 2: 0.5, 4: 1.0}
    assert m.mrr == pytest.approx(0.5)
    # positives 4 and 2 against negatives 5, 3, 1: 4 beats two, 2 beats one → 3 of 6 pairs
    assert m.auc == pytest.approx(0.5)


def test_known_suppliers_are_not_candidates_and_ties_are_pessimistic() -> None:
    scores = np.array([[9.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    known = np.array([[True, False, False, False], [False, False, False, False]])
    hidden = np.array([[False, False, True, False], [True, False, False, False]])
    m = linkpred.ranking_metrics(scores, known, hidden, ks=(1, 3))
    # row 0: three candidates tied → the hidden one ranks 3rd; row 1: four tied → 4th
    assert m.hit_at == {1: 0.0, 3: 0.5}
    assert m.mrr == pytest.approx((1 / 3 + 1 / 4) / 2)
    assert m.auc == pytest.approx(0.5)  # ties count half


def _sklearn_metrics(scores: np.ndarray, known: np.ndarray, hidden: np.ndarray, ks: tuple[int, ...],
                     ties: bool) -> dict:
    """The same figures from scikit-learn's metrics, customer by customer over its candidates (not known).

    A hidden supplier's rank is coverage_error with it as the only true label (ties ranked last, as ours are);
    1 / that rank is label_ranking_average_precision_score of the same; without ties, top_k_accuracy_score says
    which hidden suppliers sit in the top k."""
    metrics = pytest.importorskip("sklearn.metrics")
    found = {k: 0 for k in ks}
    cust_hits: dict[int, list[float]] = {k: [] for k in ks}
    recalls: dict[int, list[float]] = {k: [] for k in ks}
    rr, aucs = [], []
    for i in range(scores.shape[0]):
        cand = ~known[i]
        s, y = scores[i, cand], hidden[i, cand]
        positives = np.flatnonzero(y)
        if not positives.size:
            continue
        one_hot = np.eye(s.size, dtype=int)[positives]
        many = np.repeat(s[None, :], positives.size, axis=0)
        ranks = np.array([metrics.coverage_error(row[None, :], s[None, :]) for row in one_hot])
        rr.append(max(metrics.label_ranking_average_precision_score(row[None, :], s[None, :]) for row in one_hot))
        for k in ks:
            if ties:
                share = float((ranks <= k).mean())
            else:
                share = metrics.top_k_accuracy_score(positives, many, k=k, labels=np.arange(s.size))
            found[k] += round(share * positives.size)
            cust_hits[k].append(float(share > 0))
            recalls[k].append(share)
        if positives.size < s.size:
            aucs.append(metrics.roc_auc_score(y, s))
    total = int((hidden & ~known).sum())
    return {"customers": len(rr), "hit_at": {k: found[k] / total for k in ks},
            "customer_hit_at": {k: float(np.mean(v)) for k, v in cust_hits.items()},
            "recall_at": {k: float(np.mean(v)) for k, v in recalls.items()}, "mrr": float(np.mean(rr)),
            "auc": float(np.mean(aucs))}


@pytest.mark.parametrize("ties", [False, True])
def test_metrics_agree_with_scikit_learn(ties: bool) -> None:
    rng = np.random.default_rng(7)
    shape = (40, 60)
    known = rng.random(shape) < 0.2
    hidden = (rng.random(shape) < 0.08) & ~known
    hidden[5] = False  # a customer with nothing hidden is not counted
    scores = rng.integers(0, 5, shape).astype(float) if ties else rng.random(shape)
    scores[hidden] += rng.random(int(hidden.sum())) * (2 if ties else 0.3)  # a model better than chance
    if ties:
        scores = np.floor(scores)
    ks = (1, 5, 10, 20)
    ours = linkpred.ranking_metrics(scores, known, hidden, ks)
    ref = _sklearn_metrics(scores, known, hidden, ks, ties)
    assert ours.customers == ref["customers"] and ours.hidden_edges == int(hidden.sum())
    for name in ("hit_at", "customer_hit_at", "recall_at"):
        got, want = getattr(ours, name), ref[name]
        assert got == pytest.approx(want, abs=1e-12), name
    assert ours.mrr == pytest.approx(ref["mrr"], abs=1e-12)
    assert ours.auc == pytest.approx(ref["auc"], abs=1e-12)
    assert 0.5 < ours.auc < 1 and 0 < ours.hit_at[5] < ours.hit_at[20] < 1  # neither trivial nor perfect


def test_peer_vote_ranks_the_supplier_of_the_most_similar_oem_first() -> None:
    # A buys s1, s2; B buys s1, s2, s3 (B is A's twin); C buys s4 only; D buys s1, s4
    g = linkpred.bipartite(
        [("A", "s1", 1), ("A", "s2", 1), ("B", "s1", 1), ("B", "s2", 1), ("B", "s3", 1),
         ("C", "s4", 1), ("D", "s1", 1), ("D", "s4", 1)]
    )
    sim = linkpred.customer_similarity(g, [g.customer_index["A"]], "cosine")[0]
    assert sim[g.customer_index["B"]] == pytest.approx(2 / np.sqrt(6))
    assert sim[g.customer_index["C"]] == 0.0 and sim[g.customer_index["A"]] == 0.0
    assert sim[g.customer_index["D"]] == pytest.approx(1 / 2)
    scores = linkpred.score_suppliers(g, [g.customer_index["A"]], linkpred.Params(measure="cosine", group_boost=0.0, sharpen=1.0))[0]
    # s3 gets B's 0.816, s4 gets D's 0.5
    assert scores[g.supplier_index["s3"]] == pytest.approx(2 / np.sqrt(6))
    assert scores[g.supplier_index["s4"]] == pytest.approx(0.5)
    # popularity ranks s4 (2 customers) level with... s3 (1 customer) below: the baseline prefers s4
    pop = linkpred.popularity(g)
    assert pop[g.supplier_index["s4"]] == 2 and pop[g.supplier_index["s3"]] == 1


def test_english_firm_names_normalise() -> None:
    assert bt.english_name_key("Bosch Automotive Products (Suzhou) Co., Ltd.") == "bosch automotive products"
    assert bt.english_name_key("BOSCH AUTOMOTIVE PRODUCTS (CHANGSHA) CO.,LTD") == "bosch automotive products"
    assert bt.english_name_key("Aisin Corporation (Formerly Aisin Seiki Co., Ltd.)") == "aisin"
    assert bt.english_name_key("Ebersp?cher Gruppe GmbH & Co. KG") == "eberspcher gruppe"
    assert bt.former_names("Aisin Corporation (Formerly Aisin Seiki Co., Ltd.)") == ["Aisin Seiki Co., Ltd."]


def _write_csv(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    lines = ["component,region,maker,model,model_year,supplier"]
    lines += [f'{c},China,{m},X,{y},"{s}"' for c, m, y, s in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_csv_renames_and_year_split(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "m.csv",
        [
            ("ABS ESC", "BYD", "2019", "Aisin Seiki Co., Ltd."),
            ("ABS ESC", "Geely", "2020 TMS", "Aisin Corporation (Formerly Aisin Seiki Co., Ltd.)"),
            ("Clutch", "Geely", "2023", "EXEDY Corporation"),
        ],
    )
    data = bt.read_marklines(path)
    assert {e.supplier for e in data.edges} == {"aisin", "exedy"}
    train, test = bt.split_pairs(data.edges, bt.Split.parse("year:2021"))
    assert train == {("BYD", "aisin"), ("Geely", "aisin")} and test == {("Geely", "exedy")}


def test_bad_input_names_file_row_and_value(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "bad.csv", [("ABS ESC", "BYD", "MY-19", "Bosch")])
    with pytest.raises(bt.BacktestInputError, match=r"第 2 行 model_year.*MY-19"):
        bt.read_marklines(path)
    with pytest.raises(bt.BacktestInputError, match="year:2021"):
        bt.Split.parse("2021")


def test_backtest_over_relation_rows_in_the_database(sqlite_url: str) -> None:
    # six OEMs in two families; each family shares suppliers, one pair per family is hidden by year
    with db.session_scope(sqlite_url) as s:
        firms = {n: Enterprise(name=n) for n in ["O1", "O2", "O3", "O4", "O5", "O6", *[f"S{i}" for i in range(1, 9)]]}
        s.add_all(firms.values())
        s.flush()
        fam = {"O1": "ABC", "O2": "ABC", "O3": "ABC", "O4": "DEF", "O5": "DEF", "O6": "DEF"}
        sup = {"ABC": ["S1", "S2", "S3"], "DEF": ["S4", "S5", "S6"]}
        for oem, f in fam.items():
            for sname in sup[f]:
                year = 2023 if (oem, sname) in {("O1", "S3"), ("O4", "S6")} else 2020
                s.add(Relation(supplier_id=firms[sname].id, customer_id=firms[oem].id, year=year))
        for oem in fam:  # S7 serves everyone (popular), S8 one OEM
            s.add(Relation(supplier_id=firms["S7"].id, customer_id=firms[oem].id, year=2019))
        s.add(Relation(supplier_id=firms["S8"].id, customer_id=firms["O2"].id, year=2019))
    with db.session_scope(sqlite_url) as s:
        data = bt.relations_from_db(s)
    report = bt.run_backtest(data, bt.Split.parse("year:2021"), ks=(1, 10))
    assert report.hidden_pairs == 2 and report.customers == 2
    # the family's shared supplier is each OEM's first new candidate; popularity cannot tell S3 from S8 or S4
    assert report.model.hit_at[1] == 1.0 and report.model.mrr == 1.0
    assert report.baseline.hit_at[1] == 0.0


def test_real_marklines_network_beats_popularity(shared_data: Path) -> None:
    folder = shared_data / "supply_chain"
    data = bt.read_marklines(folder / "marklines_oem_supplier_by_component.csv", folder / "marklines_maker_group.csv")
    report = bt.run_backtest(data, bt.Split.parse("random:0.2", seed=7))
    assert report.hidden_pairs > 500
    assert report.model.hit_at[20] >= 2 * report.baseline.hit_at[20]
    assert report.model.auc > 0.9 > report.baseline.auc
    by_year = bt.run_backtest(data, bt.Split.parse("year:2021"))
    assert by_year.model.hit_at[20] > by_year.baseline.hit_at[20]
    assert by_year.model.mrr > by_year.baseline.mrr


def test_cli_backtest_reads_a_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from chainatlas.cli.main import app

    rows = [("ABS ESC", m, "2020", s) for m in ("A", "B", "C") for s in ("S1 Co., Ltd.", "S2 GmbH")]
    rows += [("ABS ESC", "A", "2023", "S3 Inc."), ("ABS ESC", "B", "2019", "S3 Inc.")]
    path = _write_csv(tmp_path / "m.csv", rows)
    runner = CliRunner()
    out = runner.invoke(app, ["backtest", "--file", str(path), "--split", "year:2021"])
    assert out.exit_code == 0, out.output
    assert "AUC" in out.output and "检验关系 1 对" in out.output
    out = runner.invoke(app, ["backtest", "--file", str(path), "--db"])
    assert out.exit_code == 1 and "二选一" in out.output
