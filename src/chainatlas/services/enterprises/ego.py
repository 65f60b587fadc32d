"""A firm's supply relations as an ego network that reads at a glance: the firm in the middle and at most
EGO_PARTNERS partners around it (the largest by supply value, then the most recent), grouped by the chain node
they supply for; every other partner stays in the table below the graph."""

from __future__ import annotations

from dataclasses import dataclass, field

EGO_PARTNERS = 24  # with the firm itself, 25 nodes: about what a 320–420 px graph can label without overlap
OTHER_NODE = "其他环节"
MAX_GROUPS = 7  # colours a reader tells apart; partners of smaller groups are shown as 其他环节


@dataclass
class Partner:
    id: int
    name: str
    label: str  # what the graph prints (简称, else the name cut to 8 characters)
    group: str  # the chain node of the largest relation
    directions: set[str] = field(default_factory=set)  # supplier / customer
    value_yuan: int = 0
    year: int = 0
    products: list[str] = field(default_factory=list)


def _label(name: str, short: str | None) -> str:
    text = short or name
    return text if len(text) <= 8 else text[:7] + "…"


def ego_network(relations: list[dict], limit: int = EGO_PARTNERS) -> dict:
    """Graph data for the enterprise page from `enterprise_detail`'s relations: partners ranked by value, then year."""
    partners: dict[int, Partner] = {}
    for r in relations:
        o = r["other"]
        p = partners.get(o["id"])
        if p is None:
            p = partners[o["id"]] = Partner(o["id"], o["name"], _label(o["name"], o.get("short_name")),
                                            r["node"]["name_zh"] if r.get("node") else OTHER_NODE)
        elif r.get("node") and (r.get("value_yuan") or 0) > p.value_yuan:
            p.group = r["node"]["name_zh"]
        p.directions.add(r["direction"])
        p.value_yuan += r.get("value_yuan") or 0
        p.year = max(p.year, r.get("year") or 0)
        if r.get("product") and r["product"] not in p.products:
            p.products.append(r["product"])
    ranked = sorted(partners.values(), key=lambda p: (-p.value_yuan, -p.year, p.name))
    shown = ranked[:limit]
    sizes: dict[str, int] = {}
    for p in shown:
        sizes[p.group] = sizes.get(p.group, 0) + 1
    kept = set(sorted((g for g in sizes if g != OTHER_NODE), key=lambda g: (-sizes[g], g))[:MAX_GROUPS])
    for p in shown:
        if p.group not in kept:
            p.group = OTHER_NODE
    groups = sorted({p.group for p in shown}, key=lambda g: (g == OTHER_NODE, g))
    return {
        "partners": [{"id": p.id, "name": p.name, "label": p.label, "group": p.group, "value_yuan": p.value_yuan,
                      "year": p.year or None, "products": p.products[:3],
                      "direction": "both" if len(p.directions) > 1 else next(iter(p.directions))} for p in shown],
        "groups": groups,
        "shown": len(shown),
        "total": len(partners),
        "shown_ids": [p.id for p in shown],
    }
