"""The `chainatlas` command: every command's help is bilingual, Chinese first; init works on a fresh file."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command
from typer.testing import CliRunner

from chainatlas.cli.main import app

runner = CliRunner()
CJK = re.compile(r"[\u4e00-\u9fff]")


def _commands(group, prefix=()):  # type: ignore[no-untyped-def]
    for name, cmd in group.commands.items():
        path = (*prefix, name)
        if hasattr(cmd, "commands"):
            yield path, cmd
            yield from _commands(cmd, path)
        else:
            yield path, cmd


def test_every_command_has_bilingual_help_chinese_first() -> None:
    root = get_command(app)
    seen = list(_commands(root))
    assert len(seen) >= 10
    for path, cmd in seen:
        text = (cmd.help or cmd.short_help or "").strip()
        assert CJK.search(text), f"{' '.join(path)}: help has no Chinese: {text!r}"
        assert re.search(r"[A-Za-z]{3,}", text), f"{' '.join(path)}: help has no English: {text!r}"
        first_cjk = CJK.search(text).start()
        first_latin = re.search(r"[A-Za-z]", text).start()
        assert first_cjk < first_latin or text.startswith(("CSV", "PDF", "Excel")), f"{' '.join(path)}: Chinese first"


def test_init_creates_and_migrates(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", url)
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert "数据库已就绪" in result.output and (tmp_path / "fresh.db").exists()
    assert "已载入全国参考企业" in result.output  # a new installation has real firms to target
    again = runner.invoke(app, ["init"])
    assert again.exit_code == 0 and "已载入全国参考企业" not in again.output  # loaded once, never twice


def test_init_never_prints_a_password(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from chainatlas.cli.cmd_db import _safe_url

    assert _safe_url("postgresql://atlas:s3cret@127.0.0.1:5432/atlas") == "postgresql://atlas:***@127.0.0.1:5432/atlas"
    assert _safe_url(f"sqlite:///{tmp_path}/a.db") == f"sqlite:///{tmp_path}/a.db"
