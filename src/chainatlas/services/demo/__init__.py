"""The demo: a zone with well-known real companies and clearly marked generated firms (`loader`), large generated
registry files (`generate`) and a demo project ledger (`ledger`), all from the data files of one zone and chain
(`files`)."""

from chainatlas.services.demo.files import DEMO_CHAIN, DEMO_ZONE
from chainatlas.services.demo.generate import generate_enterprises
from chainatlas.services.demo.ledger import load_demo_ledger
from chainatlas.services.demo.loader import GENERATED_NOTE, load_demo

__all__ = ["DEMO_CHAIN", "DEMO_ZONE", "GENERATED_NOTE", "generate_enterprises", "load_demo", "load_demo_ledger"]
