"""Which firms form the second sealed holdout of the placement labels (issue 20, session 10).

The rule was fixed, and its output committed as tests/data/labels/sealed2_codes.txt, before any tuning in that session
and without running the engine: every A-share firm with product text in ../shared/data/industry_chain that the label
file did not yet hold, if its Tushare industry is chain-adjacent, plus a hashed 15 % of the other such firms (so the
off-chain share is measured on firms the engine might not expect either). Run against the label file as it was in
that commit; later label rows change the output.

Run: python scripts/select_sealed2.py > tests/data/labels/sealed2_codes.txt
"""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CHAINATLAS_SHARED_DATA", ROOT.parent / "shared" / "data"))
LABELS = ROOT / "tests" / "data" / "labels" / "nev_icv_companies.csv"
SALT = "chainatlas-issue20-sealed2-2026-12-07"
CHAIN_ADJACENT = {
    "化工原料", "专用机械", "电气设备", "电器仪表", "家用电器", "小金属", "通信设备", "机械基件", "元器件", "塑料", "工程机械",
    "汽车配件", "汽车整车", "汽车服务", "橡胶", "铝", "铜", "钢加工", "普钢", "特种钢", "半导体", "IT设备", "软件服务",
    "仓储物流", "公共交通", "摩托车", "运输设备", "矿物制品", "玻璃", "染料涂料", "化纤", "新型电力", "电信运营", "互联网",
    "建筑工程", "其他建材",
}


def hashed_share(code: str) -> int:
    return int(hashlib.sha256((SALT + code).encode()).hexdigest(), 16) % 100


def main() -> None:
    with LABELS.open(encoding="utf-8") as fh:
        labelled = {r["company_code"] for r in csv.DictReader(fh)}
    with (SHARED / "industry_chain" / "ckg_company_product.csv").open(encoding="utf-8") as fh:
        with_text = {r["company_code"] for r in csv.DictReader(fh)}
    with (SHARED / "listed_companies" / "tushare_a_share_basic_2024.csv").open(encoding="utf-8") as fh:
        industry = {r["ts_code"]: r["industry"] for r in csv.DictReader(fh)}
    for code in sorted(with_text - labelled):
        if industry.get(code) in CHAIN_ADJACENT or hashed_share(code) < 15:
            print(code)


if __name__ == "__main__":
    main()
