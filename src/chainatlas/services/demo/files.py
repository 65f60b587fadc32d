"""The demo's data files (data/demo/*.yaml) and the zone and chain they are written for: the demo firms, projects
and targets are placed on this chain's nodes in this zone, so the demo loads them and no other."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

DEMO_ZONE = "wuhan-edz"
DEMO_CHAIN = "nev-icv"


def demo_file(name: str) -> dict:
    path = Path(str(resources.files("chainatlas") / "data" / "demo" / name))
    return yaml.safe_load(path.read_text(encoding="utf-8"))
