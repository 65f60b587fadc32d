"""The installed `chainatlas` command's entry point (pyproject.toml, [project.scripts]): the Typer app of `cli.main`,
started without the cyclic garbage collector walking what the start imports."""

from __future__ import annotations

import gc


def main() -> None:
    # Importing typer and click took ≈ 30 collections (≈ 5 ms of every command's start here) over objects that all
    # live as long as the process. The collector is off while they are imported, and they are then frozen out of
    # its walks (`gc.freeze`); it works on as before over the objects made after them.
    gc.disable()
    from chainatlas.cli.main import app

    gc.freeze()
    gc.enable()
    app()
