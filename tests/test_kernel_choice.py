"""Without the compiled kernel (an install on a machine with no C compiler) `chainatlas classify` runs the pure-Python
kernel, says so on one stderr line, and writes the very same bytes; CHAINATLAS_KERNEL chooses or insists.

The extension is hidden from a subprocess the way a missing file hides it (its import fails). The whole install
without a compiler (`CC=/bin/false pip install .`) is checked by scripts/check-install.sh, which CI runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Runs the chainatlas command in a Python whose import of the compiled kernel fails, as where it was never built.
WITHOUT_EXTENSION = (
    "import sys; sys.modules['chainatlas.engines.placement_kernel'] = None; sys.argv[0] = 'chainatlas'; "
    "from chainatlas.cli.main import app; app()"
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CHAINATLAS_KERNEL"}
    return env | extra


def _run(code: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=_env(**env),
                          timeout=300)


def _choice(hidden: bool, **env: str) -> subprocess.CompletedProcess:
    hide = "import sys; sys.modules['chainatlas.engines.placement_kernel'] = None; " if hidden else ""
    return _run(hide + "from chainatlas.engines import kernel; print(kernel.COMPILED, kernel.Kernel.__module__); "
                "print(kernel.absent_notice())", **env)


def test_the_pure_python_kernel_stands_in_when_the_extension_is_missing() -> None:
    out = _choice(hidden=True)
    assert out.returncode == 0, out.stderr
    compiled, notice = out.stdout.splitlines()
    assert compiled == "False chainatlas.engines.placement_kernel_py"
    assert "未安装编译的挂链内核" in notice and "慢" in notice and out.stderr == ""  # said by classify, not on import


def test_chainatlas_kernel_forces_or_insists() -> None:
    forced = _choice(hidden=False, CHAINATLAS_KERNEL="python")
    assert forced.stdout.splitlines() == ["False chainatlas.engines.placement_kernel_py", "None"]  # asked: no notice
    insisted = _choice(hidden=True, CHAINATLAS_KERNEL="compiled")
    assert insisted.returncode != 0 and "KernelMissing" in insisted.stderr and "C 编译器" in insisted.stderr
    wrong = _choice(hidden=False, CHAINATLAS_KERNEL="fast")
    assert wrong.returncode != 0 and "CHAINATLAS_KERNEL 应为 auto、python 或 compiled" in wrong.stderr


def test_classify_without_the_extension_writes_the_same_bytes(generated_firms: Path, tmp_path: Path) -> None:
    firms = tmp_path / "firms.csv"
    with open(generated_firms, encoding="utf-8") as src:  # 8,000 diverse generated rows: seconds in pure Python
        firms.write_text("".join(line for _, line in zip(range(8_001), src)), encoding="utf-8")
    present = _run("from chainatlas.cli.main import app; app()", "classify", str(firms), "--out",
                   str(tmp_path / "auto.csv"), "--workers", "1")
    assert present.returncode == 0, present.stderr
    missing = _run(WITHOUT_EXTENSION, "classify", str(firms), "--out", str(tmp_path / "python.csv"), "--workers", "1")
    assert missing.returncode == 0, missing.stderr
    notices = [line for line in missing.stderr.splitlines() if "挂链内核" in line]
    assert len(notices) == 1 and "纯 Python" in notices[0]
    auto, python = (tmp_path / "auto.csv").read_bytes(), (tmp_path / "python.csv").read_bytes()
    assert auto.count(b"\n") > 2_000 and auto == python


def test_the_classify_command_refuses_an_unknown_kernel_in_chinese(tmp_path: Path) -> None:
    (tmp_path / "firms.csv").write_text("企业名称,主营产品\n某某公司,动力电池\n", encoding="utf-8")
    out = _run("from chainatlas.cli.main import app; app()", "classify", str(tmp_path / "firms.csv"), "--out",
               str(tmp_path / "out.csv"), CHAINATLAS_KERNEL="fast")
    assert out.returncode == 1 and "错误：环境变量 CHAINATLAS_KERNEL" in out.stderr
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.skipif(os.environ.get("CHAINATLAS_KERNEL") == "python", reason="the pure-Python kernel was asked for")
def test_this_install_has_the_compiled_kernel_where_a_compiler_was_found() -> None:
    """scripts/setup-venv.sh builds the extension wherever cc works; the suite then checks the compiled kernel and
    scripts/test.sh checks the pure-Python one after it. Without a compiler here, there is nothing compiled to check."""
    if subprocess.run(["sh", "-c", "command -v cc || command -v gcc"], capture_output=True).returncode != 0:
        pytest.skip("no C compiler on this machine: the pure-Python kernel is the one installed")
    out = _choice(hidden=False)
    assert out.stdout.splitlines()[0] == "True chainatlas.engines.placement_kernel"
