"""Which placement kernel runs: the compiled extension (placement_kernel.pyx) where it was built, else the pure-Python
one (placement_kernel_py.py) with the same interface and the same output, byte for byte.

`pip install` builds the extension only where a C compiler is found (setup.py), so a server without one still
installs; `chainatlas classify` then says on stderr what the missing kernel costs (`absent_notice`).
CHAINATLAS_KERNEL (config.py) forces a choice: `python` runs the pure-Python kernel even where the compiled one is
present (CI runs the equivalence tests against both that way), `compiled` refuses to run without the extension.
"""

from __future__ import annotations

from chainatlas import config

# bench/RESULTS.md, kernel section: the whole `classify` command on 200,000 diverse generated firms, one process.
PYTHON_COST = "整条命令约慢 1.7 倍 (~1.7x slower)"


class KernelMissing(RuntimeError):
    """CHAINATLAS_KERNEL=compiled on an install without the compiled extension."""


def _choose() -> tuple[type, bool]:
    """(the Kernel class, whether it is the compiled one)."""
    choice = config.kernel()
    if choice != "python":
        try:
            from chainatlas.engines.placement_kernel import Kernel as Compiled
        except ImportError:
            if choice == "compiled":
                raise KernelMissing(
                    "未找到编译的挂链内核（CHAINATLAS_KERNEL=compiled）：请在装有 C 编译器（gcc、python3-dev）的机器上"
                    "重新 pip install，或去掉该变量改用纯 Python 内核 (compiled placement kernel not installed)") from None
        else:
            return Compiled, True
    from chainatlas.engines.placement_kernel_py import Kernel as Python

    return Python, False


Kernel, COMPILED = _choose()


def absent_notice() -> str | None:
    """One line for stderr when the compiled kernel is missing (not when the pure-Python one was asked for)."""
    if COMPILED or config.kernel() == "python":
        return None
    return (f"提示：未安装编译的挂链内核，改用纯 Python 内核：结果相同，{PYTHON_COST}；安装 gcc 与 python3-dev 后重新"
            f" pip install 即可启用 (compiled placement kernel not installed: pure Python, same output, slower)")
