"""Derive the shipped GB/T 2260 division table (src/chainatlas/data/divisions/gbt2260.csv) from the modood tree.

Usage: python scripts/build_divisions.py [../shared/data/admin_divisions/modood_pcas-code.json]
The source and its licence are written in src/chainatlas/data/divisions/SOURCES.md.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "chainatlas" / "data" / "divisions" / "gbt2260.csv"
LEVELS = ("province", "city", "county", "street")
# the NBS tables name a municipality's city level "市辖区"; addresses and users call it by the municipality's name
GENERIC_CITY = "市辖区"


def rows(tree: list[dict]) -> list[tuple[str, str, str, str]]:
    out = []

    def walk(nodes: list[dict], depth: int, parent: str, parent_name: str) -> None:
        for node in nodes:
            name = parent_name if depth == 1 and node["name"] == GENERIC_CITY else node["name"]
            out.append((node["code"], name, LEVELS[depth], parent))
            walk(node.get("children", []), depth + 1, node["code"], name)

    walk(tree, 0, "", "")
    return out


def main() -> None:
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/admin_divisions/modood_pcas-code.json")
    table = rows(json.loads(source.read_text(encoding="utf-8")))
    with open(OUT, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(("code", "name", "level", "parent_code"))
        writer.writerows(table)
    print(f"{OUT}: {len(table)} divisions")


if __name__ == "__main__":
    main()
