"""The learned placement layer: trained on a small real labelled subset, stored as plain numbers beside its chain,
applied by numpy alone, and applied the same way by `Classifier.classify` and the batch engine (both kernels)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainatlas.cli.main import app
from chainatlas.domain.chain import builtin_chain_path, load_chain
from chainatlas.engines.classify import FIELDS, Classifier, Record
from chainatlas.engines.classify_batch import BatchClassifier
from chainatlas.engines.placement_kernel_py import Kernel as PythonKernel
from chainatlas.engines.placement_model import (
    RULES_DECIDE_FROM,
    ModelFileError,
    PlacementModel,
    dense_names,
    model_path,
)
from chainatlas.engines.placement_quality import load_labelled
from chainatlas.services.placement import TrainingError, TrainSettings, train

LABELS = Path(__file__).parent / "data" / "labels" / "nev_icv_companies.csv"
SMALL = TrainSettings(folds=3, buckets=1 << 12, trees=40)


def _subset(tmp: Path, n: int = 160) -> Path:
    """The first `n` rows of the `train` split: a small real labelled set (never a `sealed` row)."""
    with open(LABELS, encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] == "train"][:n]
    path = tmp / "labels.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def chain_dir(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """A copy of the nev-icv chain file with a model trained beside it."""
    folder = tmp_path_factory.mktemp("chain")
    shutil.copy(builtin_chain_path("nev-icv"), folder / "nev-icv.yaml")
    train(load_chain(folder / "nev-icv.yaml"), _subset(folder), shared_data, "train", SMALL)
    return folder


@pytest.fixture(scope="module")
def labelled(chain_dir: Path, shared_data: Path) -> list:
    return load_labelled(shared_data, load_chain(chain_dir / "nev-icv.yaml"), chain_dir / "labels.csv")


def test_training_writes_a_model_that_loads_and_changes_decisions_it_should(chain_dir: Path, labelled: list) -> None:
    chain = load_chain(chain_dir / "nev-icv.yaml")
    model = PlacementModel.load(model_path(chain.path))
    assert model.chain_id == "nev-icv" and len(model.trees) == SMALL.trees and model.buckets == SMALL.buckets
    rules, learned = Classifier(chain, model=None), Classifier(chain)
    assert learned.model is not None and rules.model is None
    fixed = broken = 0
    for item in labelled:
        before = [chain.segment_of(p.node_id).id for p in rules.classify(item.record)]
        after_placements = learned.classify(item.record)
        after = [chain.segment_of(p.node_id).id for p in after_placements]

        def right(segs: list[str]) -> bool:
            return (bool(segs) and segs[0] in item.gold) if item.gold else not segs

        fixed += right(after) and not right(before)
        broken += right(before) and not right(after)
        for p in after_placements:  # rule evidence still shown, and the model's word where it decided
            kinds = [e["kind"] for e in p.evidence]
            assert any(k in ("strong", "weak") for k in kinds)
            if kinds[-1] == "model":
                assert p.confidence >= model.threshold
            else:  # the rules place the firm clearly: their placements stand
                assert after_placements[0].score >= RULES_DECIDE_FROM and before == after
    # in-sample, the model must put right more firms than it puts wrong
    assert fixed > broken


def test_the_figures_and_data_description_are_written_beside_the_model(chain_dir: Path) -> None:
    data = json.loads((chain_dir / "nev-icv.model.json").read_text(encoding="utf-8"))
    assert data["training"]["split"] == "train" and data["training"]["firms"] == 160
    for key in ("rules_alone", "rules_and_model_cross_validated"):
        figures = data["metrics"][key]
        assert 0 < figures["accuracy"] <= 1 and figures["on_chain_with_products"] > 30
        low, high = figures["accuracy_95"]
        assert low < figures["accuracy"] < high
    report = (chain_dir / "nev-icv.model.md").read_text(encoding="utf-8")
    assert "rules + model (cross-validated)" in report and "3-fold" in report


def test_the_batch_engine_places_as_the_engine_with_the_model_on_both_kernels(chain_dir: Path,
                                                                              labelled: list) -> None:
    chain = load_chain(chain_dir / "nev-icv.yaml")
    engine = Classifier(chain)
    assert engine.model is not None
    # the labelled firms, and the same firms with a business scope and a GB/T code, which the model also reads
    records = [i.record for i in labelled] + [
        Record(id=f"s{k}", name=i.record.name, products=i.record.products, industry_code="3670",
               scope="汽车零部件及配件制造；电池制造；技术服务") for k, i in enumerate(labelled[:40])]
    expected = [(p.id, p.node_id, p.score, p.confidence, p.evidence) for r in records for p in engine.classify(r)]
    assert any(e["kind"] == "model" for *_, ev in expected for e in ev)
    assert any(all(e["kind"] != "model" for e in ev) for *_, ev in expected)  # placed by the rules alone
    # some firm is placed on weak words alone, which only the learned layer does (the batch must see it too)
    assert any(not any(e["kind"] == "strong" for e in ev) for *_, ev in expected)
    compiled = BatchClassifier(chain)
    python = BatchClassifier(chain)
    python.kernel = PythonKernel(python.classifier)
    for batch in (compiled, python):
        got = [(p.id, p.node_id, p.score, p.confidence, p.evidence) for p in batch.classify_records(records)]
        assert got == expected


def test_inference_needs_no_scikit_learn(chain_dir: Path, labelled: list) -> None:
    """A fresh process where importing sklearn fails places with the model, exactly as this one does."""
    chain_path = chain_dir / "nev-icv.yaml"
    engine = Classifier(load_chain(chain_path))
    firms = [{"id": i.record.id, "name": i.record.name, "products": list(map(list, i.record.products)),
              "industry_code": i.record.industry_code} for i in labelled[:60]]
    expected = [[p.node_id, p.confidence] for f in firms for p in engine.classify(
        Record(id=f["id"], name=f["name"], products=[tuple(x) for x in f["products"]],
               industry_code=f["industry_code"]))]
    script = """
import json, sys
class NoSklearn:
    def find_spec(self, name, path=None, target=None):
        if name == "sklearn" or name.startswith("sklearn."):
            raise ImportError("scikit-learn is not installed here")
sys.meta_path.insert(0, NoSklearn())
from chainatlas.domain.chain import load_chain
from chainatlas.engines.classify import FIELDS, Classifier, Record
engine = Classifier(load_chain(sys.argv[1]))
assert engine.model is not None
firms = json.load(sys.stdin)
out = [[p.node_id, p.confidence] for f in firms for p in engine.classify(
    Record(id=f["id"], name=f["name"], products=[tuple(x) for x in f["products"]], industry_code=f["industry_code"]))]
assert "sklearn" not in sys.modules
print(json.dumps(out))
"""
    done = subprocess.run([sys.executable, "-c", script, str(chain_path)], input=json.dumps(firms),
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == expected and expected


def test_the_setting_turns_the_model_off(chain_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINATLAS_PLACEMENT_MODEL", "0")
    assert Classifier(load_chain(chain_dir / "nev-icv.yaml")).model is None


def test_a_model_file_of_other_features_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.model.json"
    bad.write_text(json.dumps({"format": "chainatlas-placement-model/0", "dense": ["score"], "ngrams": [2, 3]}))
    with pytest.raises(ModelFileError, match="重新训练"):
        PlacementModel.load(bad)
    # a model of other rule columns than the engine computes (an engine with another field list) is stale
    other = PlacementModel(("score",), 8, 0.0, 0.1, [], 0.5, "nev-icv", "")
    with pytest.raises(ModelFileError, match="重新训练"):
        Classifier(load_chain("nev-icv"), model=other)


def test_the_sealed_split_is_refused(tmp_path: Path, shared_data: Path) -> None:
    for split in ("sealed", "sealed2"):
        with pytest.raises(TrainingError, match=split):
            train(load_chain("nev-icv"), LABELS, shared_data, split, SMALL, tmp_path)


def test_the_train_command_writes_model_and_metrics(tmp_path: Path, shared_data: Path) -> None:
    labels = _subset(tmp_path, 120)
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(app, ["placement", "train", "--labels", str(labels), "--shared-data",
                                      str(shared_data), "--split", "train", "--folds", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "准确率" in result.output and "链外误挂" in result.output
    model = PlacementModel.load(out / "nev-icv.model.json")
    assert model.threshold == 0.5
    assert json.loads((out / "nev-icv.model.json").read_text(encoding="utf-8"))["metrics"]["rules_alone"]
    assert (out / "nev-icv.model.md").exists()
    missing = CliRunner().invoke(app, ["placement", "train", "--labels", str(tmp_path / "none.csv"),
                                       "--shared-data", str(shared_data)])
    assert missing.exit_code == 1 and "找不到标注文件" in missing.output


def _constant_model(log_odds: float) -> PlacementModel:
    """A model without trees: every candidate gets the same probability."""
    return PlacementModel(dense_names(FIELDS), 16, log_odds, 0.1, [], 0.5, "nev-icv", "")


def test_a_placeholder_share_never_places_a_firm_even_by_the_model() -> None:
    yes = Classifier(load_chain("nev-icv"), model=_constant_model(10.0))
    placeholder = Record(id="p", name="某服饰股份有限公司", products=[("服装", 0.9), ("动力电池", 0.001)])
    assert yes.classify(placeholder) == []
    real = Record(id="r", name="某服饰股份有限公司", products=[("服装", 0.9), ("动力电池", 0.03)])
    placed = yes.classify(real)
    assert [p.node_id for p in placed][:1] and placed[0].evidence[-1]["kind"] == "model"


def test_the_rules_stand_where_they_place_clearly_and_the_model_decides_the_rest() -> None:
    no = Classifier(load_chain("nev-icv"), model=_constant_model(-10.0))
    rules = Classifier(load_chain("nev-icv"), model=None)
    clear = Record(id="c", name="某动力电池股份有限公司", products=[("动力电池", 0.95)])
    assert rules.classify(clear)[0].score >= RULES_DECIDE_FROM
    assert no.classify(clear) == rules.classify(clear)
    unclear = Record(id="u", name="某电子股份有限公司", products=[("消费电池", 0.9), ("动力电池", 0.03)])
    assert 0 < rules.classify(unclear)[0].score < RULES_DECIDE_FROM
    assert no.classify(unclear) == []


@pytest.mark.db
def test_the_database_service_places_with_the_model_as_the_engine_does(session, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import select

    from chainatlas.services.placement import classify_enterprises
    from chainatlas.store.models import Enterprise, EnterpriseProduct, Placement

    chain_path = Path(shutil.copyfile(builtin_chain_path("nev-icv"), tmp_path / "db-chain.yaml"))
    (tmp_path / "db-chain.model.json").write_text(_constant_model(-10.0).to_json(), encoding="utf-8")
    firms = {}
    for name, products in (("某动力电池股份有限公司", [("动力电池", 0.95)]),
                           ("某电子股份有限公司", [("消费电池", 0.9), ("动力电池", 0.03)])):
        firm = Enterprise(name=name, source="test")
        firm.products = [EnterpriseProduct(product=p, revenue_share=s) for p, s in products]
        session.add(firm)
        session.flush()
        firms[name] = (firm.id, Record(id=str(firm.id), name=name, products=products))

    def stored() -> list[tuple[int, str, float, list]]:
        rows = session.scalars(select(Placement).where(Placement.chain_id == "nev-icv").order_by(Placement.id))
        return sorted((r.enterprise_id, r.node_id, r.score, r.evidence) for r in rows)

    classify_enterprises(session, load_chain(chain_path))
    engine = Classifier(load_chain(chain_path))
    expected = sorted((int(p.id), p.node_id, p.score, p.evidence) for _, r in firms.values() for p in engine.classify(r))
    assert stored() == expected and [e[0] for e in expected] == [firms["某动力电池股份有限公司"][0]]
    monkeypatch.setenv("CHAINATLAS_PLACEMENT_MODEL", "0")  # the rules alone place the unclear firm too
    classify_enterprises(session, load_chain(chain_path))
    assert {e[0] for e in stored()} == {firm_id for firm_id, _ in firms.values()}
