"""Builds the compiled placement kernel (engines/placement_kernel.pyx) where a C compiler works, and skips it where
none does (government intranet servers often have none): the package then runs the pure-Python kernel
(engines/placement_kernel_py.py), with the same output, slower. Everything else is in pyproject.toml."""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

# No compiler (PlatformError), one that fails (CompileError/LinkError are CCompilerErrors), or one not there.
NOT_BUILT = (CCompilerError, ExecError, PlatformError, OSError)


class OptionalKernel(build_ext):
    """A failed compile or link of the kernel is a warning, not a failed install."""

    def run(self):
        try:
            super().run()
        except NOT_BUILT as exc:  # no compiler at all, found before any extension
            self._skipped(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except NOT_BUILT as exc:  # this extension's compile or link failed (CC=/bin/false)
            self._skipped(exc)

    @staticmethod
    def _skipped(exc):
        print(f"警告：未能编译挂链内核（{exc}），将使用纯 Python 内核：结果相同，速度较慢。"
              " (compiled placement kernel not built; the pure-Python kernel will be used)", file=sys.stderr)


setup(
    ext_modules=cythonize(
        [Extension(
            "chainatlas.engines.placement_kernel",
            ["src/chainatlas/engines/placement_kernel.pyx"],
            # Scores must equal the Python engine's bit for bit: no fused multiply-add, no reordered sums.
            extra_compile_args=["-O2", "-ffp-contract=off", "-fno-fast-math"],
        )],
        compiler_directives={"language_level": "3"},
    ),
    cmdclass={"build_ext": OptionalKernel},
)
