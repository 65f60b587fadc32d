"""Builds the compiled placement kernel (engines/placement_kernel.pyx); everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

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
)
