"""The demo zone: 武汉经开区 with well-known real companies of the chain (public facts) and generated local firms.

Everything loaded here has source = "demo"; generated firms also say 程序生成 in their notes, and the
UI and reports label demo data. Firms outside the zone are real: the companies of companies.yaml and the national
reference set (services/ingest/reference.py), with their public facts only — so a target list names real firms
and nothing invented is attached to them. Generated firms are only the zone's own local list, and generated supply
relations only link them to the zone's leaders, without amounts (an amount would be an invented fact about a real
leader). Deterministic: the same seed gives the same demo every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.domain.chain import Chain, load_chain
from chainatlas.domain.uscc import ALPHABET, check_digit
from chainatlas.ingest.names import name_key
from chainatlas.services.catalog.chains import sync_chain
from chainatlas.services.ingest.reference import load_reference
from chainatlas.services.demo.files import DEMO_CHAIN, DEMO_ZONE, demo_file
from chainatlas.services.demo.ledger import load_demo_ledger
from chainatlas.services.demo.sites import load_demo_sites
from chainatlas.services.placement.placements import classify_enterprises, effective_placements
from chainatlas.services.catalog.zones import load_zone
from chainatlas.store.db import audit
from chainatlas.store.models import (
    Designation,
    Enterprise,
    EnterpriseAlias,
    EnterpriseProduct,
    Region,
    Relation,
    Zone,
)

DEMO = "demo"
GENERATED_NOTE = "演示数据（程序生成，非真实企业）"


@dataclass
class DemoSummary:
    enterprises: int
    local: int
    relations: int
    placements: int
    projects: int


def _uscc(rng: random.Random, division: str) -> str:
    body = "91" + division + "".join(rng.choice(ALPHABET) for _ in range(9))
    return body + check_digit(body)


def _load_regions(session: Session, companies: dict, zone: Zone) -> None:
    for code, name in companies["provinces"].items():
        session.merge(Region(code=code, name=name, level="province", parent_code=None))
    for code, name in companies["cities"].items():
        session.merge(Region(code=code, name=name, level="city", parent_code=code[:2]))
    for m in zone.members:
        level = "county" if m.kind == "county" else "street"
        parent = m.region_code[:4] if level == "county" else m.region_code[:6]
        session.merge(Region(code=m.region_code, name=m.name, level=level, parent_code=parent))
    session.merge(Region(code="420114", name="蔡甸区", level="county", parent_code="4201"))
    session.flush()


def _real_companies(session: Session, companies: dict, zone: Zone) -> list[Enterprise]:
    """The companies of companies.yaml; one the database holds already (the reference set loaded by `init`, by
    stock code or name) is not added twice — the zone's leaders are marked on it."""
    out = []
    for group in ("oems", "suppliers"):
        for c in companies[group]:
            in_zone = bool(c.get("in_zone"))
            same = Enterprise.name == c["name"]
            if c.get("listing"):
                same = same | (Enterprise.listing_code == c["listing"])
            held = session.scalar(select(Enterprise).where(same).limit(1))
            if held is not None:
                if in_zone:
                    held.zone_id, held.is_leader = zone.id, bool(c.get("leader"))
                out.append(held)
                continue
            ent = Enterprise(
                name=c["name"],
                name_norm=name_key(c["name"]).norm[:200],  # so an import finds the firm by name
                short_name=c.get("short", ""),
                name_en=c.get("name_en", ""),
                province_code=c["city"][:2],
                city_code=c["city"],
                district_code="420114" if in_zone else "",
                address="湖北省武汉市武汉经济技术开发区" if in_zone else companies["cities"][c["city"]],
                zone_id=zone.id if in_zone else None,
                listing_code=c.get("listing", ""),
                is_leader=bool(c.get("leader")),
                industry_code="3612" if group == "oems" else "",
                source=DEMO,
            )
            ent.products = [EnterpriseProduct(product=p) for p in c["products"]]
            aliases = [(c.get("short"), "short"), (c.get("name_en"), "english")]
            ent.aliases = [EnterpriseAlias(alias=a, kind=k, source=DEMO) for a, k in aliases if a]
            session.add(ent)
            out.append(ent)
    session.flush()
    return out


def _node_words(chain: Chain, node_id: str) -> list[str]:
    words = list(chain.node(node_id).keywords)
    for child in chain.descendants(node_id):
        words.extend(child.keywords)
    return [w for w in words if len(w) >= 2 and w.isascii() is False] or [chain.node(node_id).name_zh]


def _generated_firm(
    rng: random.Random, chain: Chain, node_id: str, profile: dict, city: str, city_name: str, zone: Zone | None
) -> Enterprise:
    """A generated firm making the node's products (its words), named and placed like a firm of the place."""
    node = chain.node(node_id)
    words = _node_words(chain, node_id)
    products = rng.sample(words, k=min(len(words), rng.randint(1, 3)))
    brand = "".join(rng.sample(profile["brands"], 2))
    suffix = rng.choice(["科技有限公司", "汽车零部件有限公司", "股份有限公司", "新能源科技有限公司", "智能科技有限公司"])
    return _new_firm(rng, brand + suffix, [(p, round(1 / len(products), 2)) for p in products],
                     f"{'、'.join(products)}的研发、生产、销售；技术服务；货物进出口。",
                     node.gbt4754[0] if node.gbt4754 else "3670", profile, city, city_name, zone)


def _firm_to_check(rng: random.Random, spec: dict, profile: dict, zone: Zone) -> Enterprise:
    """A generated local firm whose registry text does not settle its place on the chain (zone_profile.yaml
    `to_check`): what the 归链核实 page lists."""
    brand = "".join(rng.sample(profile["brands"], 2))
    return _new_firm(rng, brand + spec["suffix"], [(p, float(share)) for p, share in spec["products"]], spec["scope"],
                     str(spec["industry_code"]), profile, "4201", "武汉市", zone)


def _new_firm(rng: random.Random, name_tail: str, products: list[tuple[str, float]], scope: str, industry_code: str,
              profile: dict, city: str, city_name: str, zone: Zone | None) -> Enterprise:
    place = "武汉" if zone else city_name.removesuffix("市")
    name = f"{place}{name_tail}"
    capital = rng.choice([500, 1000, 2000, 3000, 5000, 8000, 10000, 20000, 50000]) * 10_000
    ent = Enterprise(
        name=name,
        name_norm=name_key(name).norm[:200],
        province_code=city[:2],
        city_code=city,
        capital_currency="CNY",
        registered_capital=capital,
        registered_capital_yuan=capital,
        founded_on=date(rng.randint(1995, 2022), rng.randint(1, 12), rng.randint(1, 28)),
        industry_code=industry_code,
        business_scope=scope,
        employees=rng.randint(30, 3000),
        revenue_yuan=capital * rng.randint(1, 12) if rng.random() < 0.7 else None,
        source=DEMO,
        status="存续",
    )
    ent.products = [EnterpriseProduct(product=p, revenue_share=share) for p, share in products]
    if zone is not None:
        street = rng.choices(list(profile["local_street_weights"]), weights=list(profile["local_street_weights"].values()))[0]
        ent.zone_id = zone.id
        ent.district_code = "420113" if street == "纱帽街道" else "420114"
        ent.address = f"湖北省武汉市武汉经济技术开发区{street}{rng.choice(profile['roads'])}{rng.randint(1, 888)}号"
        ent.uscc = _uscc(rng, ent.district_code)
    else:
        ent.address = f"{city_name}{rng.choice(['高新区', '经开区', '工业园区'])}{rng.choice(['创新', '科技', '工业'])}大道{rng.randint(1, 999)}号"
        ent.uscc = _uscc(rng, city + "00")
    ent.aliases = [EnterpriseAlias(alias=GENERATED_NOTE, kind="other", source=DEMO)]
    for name_, level, p in (("高新技术企业", "国家级", 0.4), ("专精特新", "省级", 0.15), ("专精特新小巨人", "国家级", 0.05)):
        if rng.random() < p:
            ent.designations.append(Designation(name=name_, level=level, year=rng.randint(2019, 2023)))
    if rng.random() < 0.08:
        ent.foreign_invested, ent.ownership = True, "外商投资企业"
    if zone is None and rng.random() < 0.03:
        ent.risk_flags = ["经营异常"]
    return ent


def load_demo(session: Session, zone_id: str = DEMO_ZONE, chain_id: str = DEMO_CHAIN, by_user: str = "system"
              ) -> DemoSummary:
    """Load the chain, the zone, the demo enterprises, generated relations and placements, and the demo ledger."""
    if session.scalar(select(Enterprise.id).where(Enterprise.source == DEMO).limit(1)) is not None:
        raise RuntimeError("演示数据已加载过；如需重建，请换一个新的数据库文件 (demo data is already loaded)")
    chain = load_chain(chain_id)
    sync_chain(session, chain)
    zone = load_zone(session, zone_id, chain_id=chain.id)
    companies = demo_file("companies.yaml")
    profile = demo_file("zone_profile.yaml")
    rng = random.Random(profile["seed"])
    _load_regions(session, companies, zone)

    real = _real_companies(session, companies, zone)
    generated = [
        _generated_firm(rng, chain, node_id, profile, "4201", "武汉市", zone)
        for node_id, count in profile["local"].items() for _ in range(count)
    ]
    # their own random stream, and no supply relations: the rest of the demo stays as it was without them
    to_check_rng = random.Random(profile["seed"] + 13)
    to_check = [_firm_to_check(to_check_rng, spec, profile, zone) for spec in profile.get("to_check", ())]
    session.add_all(generated + to_check)
    session.flush()

    placed = classify_enterprises(session, chain).inserted
    reference = load_reference(session, chain.id)
    relations = _generated_relations(session, rng, real, generated, zone, chain.id)
    projects = len(load_demo_ledger(session, zone_id=zone.id, chain_id=chain.id))
    load_demo_sites(session, zone, chain, profile["seed"] + 26)  # its own generator: the rest stays as it was
    total = len(real) + len(generated) + len(to_check) + reference
    audit(session, by_user, "demo.load", "zone", zone.id, None, {"enterprises": total})
    local = sum(1 for e in real + generated + to_check if e.zone_id == zone.id)
    return DemoSummary(total, local, relations, placed, projects)


def _generated_relations(
    session: Session, rng: random.Random, real: list[Enterprise], generated: list[Enterprise], zone: Zone,
    chain_id: str,
) -> int:
    """Generated supply relations (演示): the zone's leaders buy each node from a few generated local firms."""
    leaders = [e for e in real if e.is_leader and e.zone_id == zone.id]
    placements = effective_placements(session, chain_id, [e.id for e in generated])
    by_node: dict[str, list[Enterprise]] = {}
    for ent in generated:
        for p in placements.get(ent.id, []):
            by_node.setdefault(p.node_id, []).append(ent)
    seen: set[tuple[int, int]] = set()
    for oem in leaders:
        for node_id, suppliers in sorted(by_node.items()):
            if rng.random() < 0.35:
                continue
            for supplier in rng.sample(suppliers, min(2, len(suppliers))):
                if (supplier.id, oem.id) in seen or supplier.id == oem.id:
                    continue
                seen.add((supplier.id, oem.id))
                session.add(
                    Relation(
                        supplier_id=supplier.id,
                        customer_id=oem.id,
                        node_id=node_id,
                        product=supplier.products[0].product if supplier.products else "",
                        year=rng.choice([2022, 2023]),
                        source="demo:generated",
                    )
                )
    session.flush()
    return len(seen)
