"""Who a relation's supplier or customer is, when the file names it by brand or in English (BYD, JAC,
"Bosch (Robert Bosch GmbH)") and the database knows it as 比亚迪股份有限公司.

A party name is tried, in turn: as given and, for an English name with a bracketed part, each part on its own —
against the stored names, English names and former names (the import's exact index); then, when it is one of a
group's names in the shipped list (data/reference/group_names.yaml), under every other name of that group, and
against the stored firms whose name core is one of the group's Chinese names (比亚迪 → 比亚迪股份有限公司). A name that
fits one stored firm is that firm; one that fits several (a group and its subsidiaries) is left for the caller to
create and queue for review beside each of them. What no name finds is left to splink with the other new firms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.ingest.names import is_latin, name_key
from chainatlas.store.models import Enterprise

_BRACKETED_TAIL = re.compile(r"^(.+?)\s*\((.+)\)\s*$")


@dataclass(frozen=True)
class Group:
    zh: tuple[str, ...]
    en: tuple[str, ...]
    source: str


@lru_cache(maxsize=1)
def groups() -> dict[str, Group]:
    """Each name of the shipped list (its norm, and an English name's core too) → its group."""
    text = resources.files("chainatlas").joinpath("data/reference/group_names.yaml").read_text(encoding="utf-8")
    found: dict[str, Group] = {}
    for entry in yaml.safe_load(text)["groups"]:
        group = Group(tuple(entry["zh"]), tuple(entry["en"]), entry["source"])
        for name in (*group.zh, *group.en):
            key = name_key(name)
            found.setdefault(key.norm, group)
            if key.latin:
                found.setdefault(key.core, group)
    return found


def name_variants(name: str) -> list[str]:
    """The name, then for an English name with a bracketed tail (Bosch (Robert Bosch GmbH)) each part alone.
    A Chinese name's brackets hold a place or a legal form (博世汽车部件(苏州)有限公司), not another name."""
    found = [name]
    tail = _BRACKETED_TAIL.match(name)
    if tail and is_latin(name):
        found += [tail.group(1), tail.group(2)]
    return found


@dataclass
class Found:
    firm: int | None  # the stored firm the name is
    several: list[int] = field(default_factory=list)  # or the stored firms it could be, when more than one
    why: str = ""  # how it was found, for the review queue


class Parties:
    """Resolves party names against one import's index of stored firms (services/ingest/imports._Index)."""

    def __init__(self, session: Session, index) -> None:
        self.session = session
        self.index = index
        self._by_core: dict[str, list[int]] = {}

    def find(self, name: str, uscc: str | None) -> Found:
        variants = name_variants(name)
        for variant in variants:
            ref = self.index.find(uscc, None, name_key(variant).norm)
            if ref is not None:
                return Found(ref)
        group = next((g for v in variants for k in _keys(v) if (g := groups().get(k)) is not None), None)
        if group is None:
            return Found(None)
        fits = list(dict.fromkeys(
            [ref for n in (*group.zh, *group.en) if (ref := self.index.find(None, None, name_key(n).norm)) is not None]
            + [ref for n in group.zh for ref in self._stored_with_core(name_key(n).core)]))
        why = f"品牌/集团名称：{name} 即 {group.zh[0]}（{group.source}）"
        if len(fits) == 1:
            return Found(fits[0], why=why)
        return Found(None, fits, why)

    def _stored_with_core(self, core: str) -> list[int]:
        """Stored firms (not merged away) whose name core is `core` (比亚迪 → 比亚迪股份有限公司)."""
        if len(core) < 2:
            return []
        if core not in self._by_core:
            rows = self.session.execute(select(Enterprise.id, Enterprise.name_norm).where(
                Enterprise.merged_into_id.is_(None), Enterprise.name_norm.contains(core, autoescape=True)))
            self._by_core[core] = [eid for eid, norm in rows if name_key(norm).core == core]
        return self._by_core[core]


def _keys(name: str) -> tuple[str, ...]:
    key = name_key(name)
    return (key.norm, key.core) if key.latin else (key.norm,)
