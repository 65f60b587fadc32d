"""Settings in one place: config.py reads every CHAINATLAS_* variable, the README's table lists exactly those, and
a bad value is refused with the variable's name."""

from __future__ import annotations

import ast
import re
from dataclasses import fields
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chainatlas import config

ROOT = Path(__file__).resolve().parents[1]


def _readme_variables() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Configuration", 1)[1].split("\n\n", 2)[1]
    return re.findall(r"^\| `(CHAINATLAS_\w+)` \|", table, re.M)


def test_the_readme_table_lists_exactly_the_settings_variables() -> None:
    variables = _readme_variables()
    assert len(variables) == len(set(variables))
    assert sorted(variables) == sorted(s.env for s in config.SETTINGS)


def test_every_setting_fills_one_typed_field() -> None:
    assert [s.field for s in config.SETTINGS] == [f.name for f in fields(config.Settings)]


def test_nothing_outside_config_names_a_chainatlas_variable_in_code() -> None:
    """Docstrings and help texts may name a variable; only config.py may hold one as a string in code (to read it)."""
    found = []
    for path in sorted((ROOT / "src" / "chainatlas").rglob("*.py")):
        if path.name == "config.py" and path.parent.name == "chainatlas":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                      and node.body and isinstance(node.body[0], ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                    and re.fullmatch(r"CHAINATLAS_\w+", node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
    assert found == []


def test_defaults_and_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert config.settings({}) == config.Settings(
        database_url=config.DEFAULT_DATABASE_URL, chain="nev-icv", zone="wuhan-edz", home=Path("./.chainatlas"),
        secret_key="", analysis_config=None, upload_ttl_hours=24.0, session_hours=12.0, cookie_secure=False,
        trusted_proxies=[], worker_memory_mb=4096, spark_master=None, baseline=None, timezone=ZoneInfo("Asia/Shanghai"),
        stale_days=365, sqlite_busy_seconds=60.0, kernel="auto", placement_model=True,
        build_cache=tmp_path / "chainatlas")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert config.settings({}).build_cache == Path.home() / ".cache" / "chainatlas"
    assert config.settings({"CHAINATLAS_BUILD_CACHE": "off"}).build_cache is None

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", no_home)
    assert config.settings({}).build_cache is None
    assert config.settings({"CHAINATLAS_BUILD_CACHE": "/srv/cache"}).build_cache == Path("/srv/cache")
    s = config.settings({"CHAINATLAS_CHAIN": "ic", "CHAINATLAS_SESSION_HOURS": "0.5", "CHAINATLAS_COOKIE_SECURE": "1",
                         "CHAINATLAS_CONFIG": "/etc/chainatlas.yaml"})
    assert (s.chain, s.session_hours, s.cookie_secure, s.analysis_config) == (
        "ic", 0.5, True, Path("/etc/chainatlas.yaml"))


@pytest.mark.parametrize(("env", "value", "message"), [
    ("CHAINATLAS_SESSION_HOURS", "半天", "CHAINATLAS_SESSION_HOURS 应为不小于 0 的小时数"),
    ("CHAINATLAS_COOKIE_SECURE", "yes", "CHAINATLAS_COOKIE_SECURE 应为 0 或 1"),
    ("CHAINATLAS_UPLOAD_TTL_HOURS", "nan", "CHAINATLAS_UPLOAD_TTL_HOURS 应为不小于 0 的小时数"),
    ("CHAINATLAS_WORKER_MEMORY_MB", "100", "CHAINATLAS_WORKER_MEMORY_MB 应为不小于 256 的整数"),
    ("CHAINATLAS_TRUSTED_PROXIES", "proxy.local", "CHAINATLAS_TRUSTED_PROXIES 应为逗号分隔的 IP 地址或网段"),
])
def test_a_bad_value_is_refused_with_its_variable(env: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config.settings({env: value})
