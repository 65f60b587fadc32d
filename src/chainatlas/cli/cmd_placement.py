"""`chainatlas placement train --labels LABELS.csv --shared-data DIR [--chain nev-icv]`: retrain a chain's learned
placement layer on a labelled set and write the model, its data description and its cross-validated figures beside
the chain file (the work is `services.placement.train`; it needs the `train` extra, scikit-learn)."""

from __future__ import annotations

from pathlib import Path

import typer

from chainatlas import config
from chainatlas.cli.errors import fail
from chainatlas.domain.chain import ChainFileError, chain_file, load_chain

placement_app = typer.Typer(help="挂链模型：训练与评估 (the learned placement layer)", no_args_is_help=True)


@placement_app.command("train")
def train_command(
    labels: Path = typer.Option(..., "--labels", help="标注文件 CSV：company_code,name,gold_nodes,note,split (labelled firms)"),
    shared_data: Path = typer.Option(
        ..., "--shared-data", help="公开数据文件夹，含 industry_chain/ckg_company*.csv (folder of the public chain graph)"),
    chain: str = typer.Option(None, "--chain", help="产业链 id 或文件路径，默认 CHAINATLAS_CHAIN (chain id or YAML file)"),
    split: str = typer.Option("train", "--split", help="用于训练与交叉验证的 split（不可为 sealed / sealed2）(split to train on)"),
    folds: int = typer.Option(5, "--folds", min=2, help="交叉验证折数 (cross-validation folds)"),
    threshold: float = typer.Option(0.5, "--threshold", min=0.0, max=1.0,
                                    help="候选环节的概率达到此值才挂链 (probability from which a candidate is placed)"),
    out: Path | None = typer.Option(None, "--out", help="写入的文件夹，默认产业链文件所在处 (output folder)"),
) -> None:
    """重新训练挂链模型，并写出模型、训练数据说明与交叉验证指标 (retrain the placement model; write model + metrics)."""
    from chainatlas.services.placement import TrainingError, TrainSettings, train

    for path, what in ((labels, "标注文件"), (shared_data / "industry_chain" / "ckg_company_product.csv", "公开数据")):
        if not path.is_file():
            fail(f"找不到{what} {path} (file not found)")
    if out is not None and not out.is_dir():
        fail(f"输出文件夹 {out} 不存在，请先创建 (output folder does not exist)")
    try:
        chain_obj = load_chain(chain_file(chain or config.default_chain()))
        trained = train(chain_obj, labels, shared_data, split, TrainSettings(folds=folds, threshold=threshold), out)
    except (ChainFileError, TrainingError) as exc:
        fail(str(exc))
    for name, q in (("规则", trained.rules), ("规则 + 模型（交叉验证）", trained.cross_validated)):
        typer.echo(f"{name}：准确率 {q.accuracy:.3f}（{q.top1_correct}/{q.n_on}，未挂链 {q.unplaced}），"
                   f"链外误挂 {q.off_placed_share:.3f}（{q.off_placed}/{q.n_off}）")
    typer.echo(("模型胜出" if trained.model_wins else "模型未胜出，可删除模型文件或设 CHAINATLAS_PLACEMENT_MODEL=0")
               + "；已写出 " + "、".join(str(p) for p in trained.files))


def register(app: typer.Typer) -> None:
    app.add_typer(placement_app, name="placement")
