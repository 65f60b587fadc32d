"""Risk flags from the files a bureau has: an exchange warning leading a listed short name (*ST恒立, a public fact of
the Tushare 2024 list) and a risk column (风险提示), so the target list's 一票否决 sees them. Real SQLite file, the
CLI's import. The firms with a 风险提示 are made up (虚构) — no risk is attached to a real, named firm."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from chainatlas.cli.main import app
from chainatlas.services.ingest.normalise import risk_flags
from chainatlas.services.targets import rank_targets
from chainatlas.store import db
from chainatlas.store.models import Enterprise
from web_helpers import app_url, import_firms_and_zone, template  # noqa: F401 (fixtures)

runner = CliRunner()
FIRMS = """证券代码,证券简称,企业名称,主营产品,风险提示
000622.SZ,*ST恒立,*ST恒立,贸易—三元前驱体:0.045,
,,虚构锂电正极材料有限公司,三元正极材料:0.9,被列入经营异常名录
,,虚构高镍正极科技有限公司,高镍三元正极材料:0.8,
"""


@pytest.fixture
def url(app_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return import_firms_and_zone(app_url, tmp_path, monkeypatch, FIRMS, "武汉市", "420100")


def _flags(url: str) -> dict[str, list[str]]:
    with db.session_factory(url)() as s:
        return {e.name: e.risk_flags for e in s.scalars(select(Enterprise))}


def test_flags_from_the_short_name_and_the_risk_column_veto_targets(url: str, tmp_path: Path) -> None:
    assert _flags(url) == {"*ST恒立": ["*ST"], "虚构锂电正极材料有限公司": ["被列入经营异常名录"], "虚构高镍正极科技有限公司": []}
    with db.session_factory(url)() as s:
        rows = {r.name: r for r in rank_targets(s, "zone-4201", "cathode", "nev-icv")}
    assert not rows["虚构高镍正极科技有限公司"].vetoed
    assert rows["*ST恒立"].vetoed and rows["*ST恒立"].reason_zh.startswith("一票否决")
    assert rows["虚构锂电正极材料有限公司"].vetoed and "经营异常" in rows["虚构锂电正极材料有限公司"].veto_reason

    # a later list flags a firm already held: its blank flags are filled, as any blank field of a known firm
    later = tmp_path / "later.csv"
    later.write_text("企业名称,风险提示\n虚构高镍正极科技有限公司,失信被执行人；股权冻结\n", encoding="utf-8")
    assert runner.invoke(app, ["import", "enterprises", str(later)]).exit_code == 0
    assert _flags(url)["虚构高镍正极科技有限公司"] == ["失信被执行人", "股权冻结"]


def test_an_exchange_warning_only_where_it_leads_a_chinese_short_name() -> None:
    names = ["恒立实业", "STMicroelectronics N.V.", "ST Engineering", "长城", "海润光伏"]
    shorts = ["*ST恒立", None, None, "ST长城", "海润"]
    given = [None, None, None, ["失信被执行人"], None]
    assert risk_flags(names, shorts, given) == [["*ST"], None, None, ["失信被执行人", "ST"], None]
