"""The shape of `src/chainatlas`, read from its source with `ast`: no import cycle between modules, no import of
another module's `_private` name, and layers that point down only (cli/web → services → domain/ingest/engines/store).

Every import counts, including the lazy ones inside functions and the ones under `if TYPE_CHECKING:` (a cycle
hidden behind either is still a knot a reader has to untie).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "chainatlas"

# What each layer may not import: the first part of the module name below `chainatlas`.
FORBIDDEN = {
    "domain": {"services", "cli", "web"},
    "store": {"services", "cli", "web"},
    "engines": {"services", "cli", "web"},
    "ingest": {"services", "cli", "web"},
    "config": {"services", "cli", "web"},
    "services": {"cli", "web"},
}


# Knots that came with other work while this check was being written (issue 18), each cut by a lazy import
# inside a function; they are listed by name so that none can grow and no new one can appear. Remove an entry
# when its knot is untied (the check then fails until it is taken out of this list).
KNOWN_CYCLES: list[list[str]] = []
KNOWN_PACKAGE_CYCLES: list[list[str]] = []


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module imported (for `from pkg import name`, `pkg.name` when that is a module, else `pkg`)
    name: str | None  # the name taken from `target`, when it is not a module
    line: int


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _absolute(module: str, level: int, name: str | None) -> str:
    if not level:
        return name or ""
    base = module.split(".") if _is_package(module) else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _imports(module: str) -> list[Import]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    found.append(Import(module, alias.name, None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node.level, node.module)
            if source.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in MODULES:
                    found.append(Import(module, submodule, None, node.lineno))
                else:
                    found.append(Import(module, source, alias.name, node.lineno))
    return found


IMPORTS = [imp for module in MODULES for imp in _imports(module)]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each a knot of mutual imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    knots: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            knot = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                knot.append(member)
                if member == node:
                    break
            if len(knot) > 1:
                knots.append(sorted(knot))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return knots


def _edges() -> dict[str, set[str]]:
    """Module → the modules it imports. A package's `__init__` re-exporting its own modules is how a package
    shows its public API, not a knot: the edge from a package to a module inside it is left out."""
    edges: dict[str, set[str]] = {}
    for imp in IMPORTS:
        if imp.target not in MODULES or imp.target == imp.module:
            continue
        if _is_package(imp.module) and imp.target.startswith(imp.module + "."):
            continue
        edges.setdefault(imp.module, set()).add(imp.target)
    return edges


def test_the_reader_finds_the_imports_it_checks() -> None:
    """The checks below would pass on nothing: make sure they see the code (a known lazy import among them)."""
    assert len(MODULES) > 80
    targets = {(imp.module, imp.target) for imp in IMPORTS}
    assert ("chainatlas.cli.cmd_classify", "chainatlas.domain.chain") in targets
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle() -> None:
    assert _cycles(_edges()) == KNOWN_CYCLES


def test_no_import_of_another_modules_private_name() -> None:
    private = [
        f"{imp.module}:{imp.line} imports {imp.target}.{imp.name}"
        for imp in IMPORTS
        if imp.name and imp.name.startswith("_") and not imp.name.startswith("__")
    ] + [
        f"{imp.module}:{imp.line} imports {imp.target}"
        for imp in IMPORTS
        if any(part.startswith("_") and not part.startswith("__") for part in imp.target.split("."))
    ]
    assert private == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_point_down(layer: str) -> None:
    upward = [
        f"{imp.module}:{imp.line} imports {imp.target}"
        for imp in IMPORTS
        if imp.module.split(".")[1:2] == [layer] and imp.target.split(".")[1:2][0:1]
        and imp.target.split(".")[1] in FORBIDDEN[layer]
    ]
    assert upward == []


def test_cli_and_web_use_the_services_public_api() -> None:
    """cli/ and web/ call a services package by what its `__init__` exports, never a module inside it."""
    inner = [
        f"{imp.module}:{imp.line} imports {imp.target}" + (f".{imp.name}" if imp.name else "")
        for imp in IMPORTS
        if imp.module.split(".")[1] in ("cli", "web") and imp.target.split(".")[1] == "services"
        and len(imp.target.split(".")) > 3
    ]
    assert inner == []


def test_services_packages_do_not_depend_on_each_other_in_a_circle() -> None:
    """The packages' `__init__` import their modules eagerly: a circle between two packages would make the import
    order decide whether a name exists yet."""
    packages: dict[str, set[str]] = {}
    for imp in IMPORTS:
        a, b = imp.module.split("."), imp.target.split(".")
        if a[1] == b[1] == "services" and len(a) > 2 and len(b) > 2 and a[2] != b[2]:
            packages.setdefault(a[2], set()).add(b[2])
    assert _cycles(packages) == KNOWN_PACKAGE_CYCLES
