"""The installed `chainatlas` command starts through `cli.start.main`: typer and the CLI imported with the cyclic
garbage collector off, then frozen out of its walks, and the command run with the collector on."""

from __future__ import annotations

import gc
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import chainatlas.cli.main as cli_main
from chainatlas.cli import start

ROOT = Path(__file__).resolve().parents[1]


def test_the_command_runs_with_the_collector_on_and_the_start_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}
    monkeypatch.setattr(cli_main, "app", lambda: seen.update(on=gc.isenabled(), frozen=gc.get_freeze_count()))
    try:
        start.main()
    finally:
        gc.unfreeze()
        gc.enable()
    assert seen["on"] is True and int(seen["frozen"]) > 10_000  # type: ignore[call-overload]


def test_the_installed_script_is_this_entry_point() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["chainatlas"] == "chainatlas.cli.start:main"
    script = Path(sys.executable).parent / "chainatlas"
    if script.exists():  # the test's own environment, installed from this tree
        done = subprocess.run([str(script), "classify", "--help"], capture_output=True, text=True)
        assert done.returncode == 0 and "--workers" in done.stdout
