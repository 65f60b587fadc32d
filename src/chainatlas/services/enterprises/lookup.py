"""Finding firms: search by name, former / English / short name or USCC, one firm by id, USCC or exact name,
and the small per-zone questions pages ask (how many local firms, which are chain leaders, which are demo)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from chainatlas.domain.money import format_yuan
from chainatlas.domain.uscc import normalize as normalize_uscc
from chainatlas.ingest.names import name_key
from chainatlas.store.models import Enterprise, EnterpriseAlias

_ALIAS_KIND = {"former": "曾用名", "english": "英文名", "short": "简称", "other": "别名"}


class EnterpriseNotFound(LookupError):
    """No firm answers to what the user gave; the message is Chinese and says how to find it."""


def firm_brief(e: Enterprise) -> dict:
    """A firm in one line of a list: names, code, zone, capital (also in 亿元 / 万元), leader and demo flags."""
    return {
        "id": e.id, "name": e.name, "short_name": e.short_name, "uscc": e.uscc, "zone_id": e.zone_id,
        "city_code": e.city_code, "is_leader": e.is_leader, "is_demo": e.is_demo,
        "registered_capital_yuan": e.registered_capital_yuan, "capital_zh": format_yuan(e.registered_capital_yuan),
        "revenue_yuan": e.revenue_yuan, "listing_code": e.listing_code, "status": e.status,
    }


MAX_QUERY = 100  # characters: the longest firm names are about 60


class SearchError(ValueError):
    """A search we refuse (too long); the message is Chinese."""


def _contains(text: str) -> str:
    """A LIKE pattern for `text` anywhere: % and _ are what the user typed, not wildcards (a crafted "%_%_%…"
    took 11.5 s on 541k firms)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(session: Session, q: str, limit: int = 50) -> dict:
    """By name, former / English / short name (aliases) or USCC; merged-away duplicates are hidden.

    Each result says which name matched when it is not the registered one (曾用名：…), so an officer sees why a
    firm with another name is listed.
    """
    q = (q or "").strip()
    if not q:
        return {"q": q, "results": [], "is_demo": False}
    if len(q) > MAX_QUERY:
        raise SearchError(f"搜索词过长（{len(q)} 个字符），最多 {MAX_QUERY} 个字符，请输入企业名称的一部分或信用代码。")
    like = _contains(q)
    code = normalize_uscc(q) if len(q) >= 15 else None
    alias_hit = select(EnterpriseAlias.enterprise_id).where(EnterpriseAlias.alias.ilike(like, escape="\\"))
    # the name as the import normalised it: （集团） finds (集团), 有限责任公司 finds 有限公司, full-width letters
    norm = name_key(q).norm
    conds = [Enterprise.name.ilike(like, escape="\\"), Enterprise.name_en.ilike(like, escape="\\"),
             Enterprise.short_name.ilike(like, escape="\\"),
             Enterprise.id.in_(alias_hit)]
    if norm:
        conds.append(Enterprise.name_norm.like(_contains(norm), escape="\\"))
    if code:
        conds.append(Enterprise.uscc == code)
    # Exact hits first (registered name, then 简称 / USCC / a former or English name), then names that start
    # with the words, then the rest, shortest name first: typing 东风汽车 finds 东风汽车集团 before 东风汽车XX零部件.
    exact_alias = select(EnterpriseAlias.enterprise_id).where(func.lower(EnterpriseAlias.alias) == q.lower())
    rank = case(
        (or_(Enterprise.name == q, Enterprise.name_norm == norm), 0),
        (or_(Enterprise.short_name == q, Enterprise.uscc == (code or q), Enterprise.id.in_(exact_alias),
             func.lower(Enterprise.name_en) == q.lower()), 1),
        (Enterprise.name.like(f"{q}%"), 2),
        else_=3,
    )
    rows = session.scalars(
        select(Enterprise).where(or_(*conds), Enterprise.merged_into_id.is_(None))
        .options(selectinload(Enterprise.aliases))
        .order_by(rank, func.length(Enterprise.name), Enterprise.id).limit(limit)
    ).all()
    results = []
    for e in rows:
        matched = next((f"{_ALIAS_KIND.get(a.kind, '别名')}：{a.alias}" for a in e.aliases
                        if q.lower() in a.alias.lower()), "")
        if not matched and q.lower() in (e.name_en or "").lower():
            matched = f"英文名：{e.name_en}"
        if not matched and code and e.uscc == code:
            matched = f"信用代码：{e.uscc}"
        results.append(dict(firm_brief(e), matched=matched))
    return {"q": q, "results": results, "is_demo": any(r["is_demo"] for r in results)}


def find_enterprise(session: Session, text: str) -> int:
    """The id of the one firm `text` names: its number, its USCC, or a name (registered, former, English, short)
    that only one firm matches. A firm merged into another answers with the one it was merged into."""
    text = (text or "").strip()
    if not text:
        raise EnterpriseNotFound("请给出企业编号、统一社会信用代码或企业名称。")
    if text.isdigit() and len(text) < 15:
        e = session.get(Enterprise, int(text))
        if e is None:
            raise EnterpriseNotFound(f"找不到编号为 {text} 的企业。")
        return e.merged_into_id or e.id
    if len(text) >= 15:
        firm_id = session.scalar(select(Enterprise.id).where(Enterprise.uscc == normalize_uscc(text)))
        if firm_id is not None:
            return _surviving(session, firm_id)
    found = search(session, text, limit=20)["results"]
    exact = [r for r in found if text in (r["name"], r["short_name"]) or r["matched"].endswith(f"：{text}")]
    chosen = exact if len(exact) == 1 else found
    if len(chosen) == 1:
        return chosen[0]["id"]
    if not chosen:
        raise EnterpriseNotFound(f"找不到名称或信用代码含“{text}”的企业。可用 chainatlas search 查找。")
    names = "、".join(f"{r['name']}（编号 {r['id']}）" for r in chosen[:5])
    raise EnterpriseNotFound(f"“{text}”对应多家企业：{names}{' 等' if len(chosen) > 5 else ''}。请给出企业编号或完整名称。")


def _surviving(session: Session, firm_id: int) -> int:
    merged_into = session.scalar(select(Enterprise.merged_into_id).where(Enterprise.id == firm_id))
    return merged_into or firm_id


def enterprises_by_id(session: Session, ids: Sequence[int]) -> list[Enterprise]:
    return list(session.scalars(select(Enterprise).where(Enterprise.id.in_(ids)))) if ids else []


def local_firm_count(session: Session, zone_id: str) -> int:
    """Firms registered in the zone, merged-away duplicates not counted."""
    return session.scalar(
        select(func.count(Enterprise.id)).where(Enterprise.zone_id == zone_id, Enterprise.merged_into_id.is_(None))
    ) or 0


def leader_firms(session: Session, zone_id: str) -> list[Enterprise]:
    """The zone's chain leaders (链主), by name."""
    return list(session.scalars(select(Enterprise).where(
        Enterprise.zone_id == zone_id, Enterprise.is_leader.is_(True), Enterprise.merged_into_id.is_(None)
    ).order_by(Enterprise.name)))


def demo_ids(session: Session, ids: Iterable[int]) -> set[int]:
    """Which of these firms are demo records (pages mark them 演示)."""
    wanted = list(ids)
    if not wanted:
        return set()
    return set(session.scalars(select(Enterprise.id).where(Enterprise.id.in_(wanted), Enterprise.source == "demo")))
