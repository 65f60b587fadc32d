"""Link step: the new firms matched probabilistically (splink) against each other and the known firms that share a
blocking key; confident pairs merged (reversibly), doubtful ones queued for review."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from chainatlas.engines.linkage import (
    MERGE_THRESHOLD,
    REVIEW_THRESHOLD,
    CharModel,
    Match,
    find_matches,
    industry_u,
)
from chainatlas.ingest.name_place_columns import (
    address_rests,
    full_name_norms,
    full_names,
    legal_stems,
    name_keys,
    short_forms,
)
from chainatlas.ingest.names import legal_stem, looks_like_full_name, name_key, short_form
from chainatlas.store import bulk
from chainatlas.services.ingest.resolve import listing_key
from chainatlas.services.ingest.rows import NewFirms
from chainatlas.store.models import Enterprise, EnterpriseAlias, MergeCandidate


def linkage_table(session: Session, firms: NewFirms) -> tuple[pa.Table, CharModel]:
    """Features of the new firms and of the known firms that could block with them, and the character model of
    the stored full names (how distinctive a short name is) — column by column: a million new firms are a
    million-row file's."""
    v = firms.values
    text = {c: pl.Series(c, values, dtype=pl.String) for c, values in (
        ("core", firms.core), ("city", v["city_code"]), ("district", v["district_code"]), ("address", v["address"]))}
    frame = pl.DataFrame(list(text.values()))
    core, city, district = pl.col("core"), pl.col("city"), pl.col("district")
    cores = text["core"]
    # key pairs as frames (known_blocking also takes sets of tuples), made only if a stored firm is there to meet
    heads = lambda: frame.select(core.str.slice(0, 2), city).unique()  # noqa: E731
    tails = lambda: frame.filter(core.str.len_chars() >= 4).select(core.str.slice(-3), district).unique()  # noqa: E731
    # what follows the divisions in each address (road, number, building), column-wise, each address once: as
    # the normalise step read it where it did (firms.rests), else read here
    address = text["address"].fill_null("")
    rest = pl.Series("address", firms.rests if firms.rests is not None else [None] * len(firms), dtype=pl.String)
    unread = rest.is_null()
    if unread.any():
        new_addresses = address.filter(unread).unique(maintain_order=True).to_list()
        rest = rest.scatter(unread.arg_true(), address.filter(unread).replace_strict(
            new_addresses, address_rests(new_addresses), return_dtype=pl.String))

    def rest_of() -> dict[str, str]:
        pairs = pl.DataFrame([address.rename("a"), rest.rename("r")]).unique("a", maintain_order=True)
        return dict(zip(pairs["a"].to_list(), pairs["r"].to_list()))

    rests = lambda: pl.DataFrame([rest, text["district"]]).filter(pl.col("address") != "").unique()  # noqa: E731
    short, full = short_and_full(firms)

    def blank_to_null(values: Any) -> pa.Array:
        return pl.Series(values, dtype=pl.String).to_frame("v").select(pl.when(pl.col("v") != "").then("v"))[
            "v"].to_arrow().cast(pa.string())

    founded = pl.Series(v["founded_on"], strict=False)
    new_part = pa.table({
        "id": pa.array(firms.ids, pa.int64()), "is_new": pa.array([True] * len(firms), pa.bool_()),
        "name_core": blank_to_null(firms.core), "is_branch": pa.array(firms.is_branch, pa.bool_()),
        "district_code": blank_to_null(v["district_code"]), "city_code": blank_to_null(v["city_code"]),
        "address": blank_to_null(rest), "uscc": blank_to_null(v["uscc"]),
        # ISO dates (str of a date), a text as it came
        "founded": blank_to_null(founded.cast(pl.String) if founded.dtype != pl.String else founded),
        "listing": pa.array(_each_once(v["listing_code"], listing_key), pa.string()),
        "short_name": pa.array(short, pa.string()), "name_full": pa.array(full, pa.string()),
        "name_en": pa.array(_each_once(v["name_en"], _english_core), pa.string()),
        "industry": blank_to_null(v["industry"]),
    })
    shorts = ShortKeys.columns(short, full, firms.core, v["city_code"])
    known, model = known_blocking(session, set(firms.ids), cores, heads, tails, rests, rest_of, shorts)
    return pa.concat_tables([new_part, known.cast(new_part.schema)]), model


def _each_once(values: list[Any], function: Any) -> list[Any]:
    """function of each value (None for a blank), worked out once per distinct value."""
    done = {x: function(x) for x in set(values) if x}
    return [done[x] if x else None for x in values]


def _english_core(name: str | None) -> str | None:
    return (name_key(name).core or None) if name else None


def short_and_full(firms: NewFirms) -> tuple[list[str | None], list[str | None]]:
    """(short form, legal stem) of each new firm: a firm named by its short name has no stem; one named in full
    keeps the short form of a short-name alias (简称 column) beside its stem; an English name is neither."""
    frame = pl.DataFrame([pl.Series("norm", firms.norm, dtype=pl.String),
                          pl.Series("full", full_names(firms.name, firms.norm), dtype=pl.Boolean),
                          pl.Series("english", [en is not None and en == name
                                                for en, name in zip(firms.values["name_en"], firms.name)])])
    shorts = frame.select(pl.when(~pl.col("english") & ~pl.col("full")).then(short_forms(pl.col("norm")))
                          .replace("", None))["norm"].to_list()
    stems_at = frame.select((~pl.col("english") & pl.col("full")).arg_true())["english"].to_list()
    fulls: list[str | None] = [None] * len(firms)
    for i, stem in zip(stems_at, legal_stems([firms.norm[i] for i in stems_at])):
        fulls[i] = stem
    for i in stems_at:
        alias = next((a for a, kind in firms.aliases[i] if kind == "short"), None) if firms.aliases[i] else None
        if alias:
            shorts[i] = short_form(alias) or None
    return shorts, fulls


class ShortKeys:
    """The short-name blocking keys of the new records, to find the known firms they could pair with — each set
    made when first asked for (a first import, with no stored firm, asks for none of the full names' keys)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame  # short, full, core, city of each new record

    @classmethod
    def of(cls, pairs: list[tuple[str | None, str | None]], cores: list[str], cities: list[Any]) -> "ShortKeys":
        short, full = (list(x) for x in zip(*pairs)) if pairs else ([], [])
        return cls.columns(short, full, cores, cities)

    @classmethod
    def columns(cls, short: list[str | None], full: list[str | None], cores: list[str],
                cities: list[Any]) -> "ShortKeys":
        return cls(pl.DataFrame([pl.Series(name, values, dtype=pl.String) for name, values in (
            ("short", short), ("full", full), ("core", cores), ("city", cities))]))

    def _distinct(self, part: pl.DataFrame, *columns: pl.Expr | str) -> set:
        found = part.select(*columns).unique()
        return set(found.to_series()) if len(columns) == 1 else set(found.rows())

    @cached_property
    def _short_named(self) -> pl.DataFrame:
        return self.frame.filter(pl.col("full").is_null() & (pl.col("short").str.len_chars() >= 2))

    @cached_property
    def _full_named(self) -> pl.DataFrame:
        return self.frame.filter(pl.col("full") != "")

    @cached_property
    def short_heads(self) -> set[str]:
        """a short-named record's first two characters (against known full names' core heads)"""
        return self._distinct(self._short_named, pl.col("short").str.slice(0, 2))

    @cached_property
    def short_cores(self) -> set[str]:
        """… its core's (place set aside)"""
        return self._distinct(self._short_named, pl.col("core").str.slice(0, 2))

    @cached_property
    def short_city_heads(self) -> set[tuple[str, str]]:
        """… with its city (against known full names' own heads)"""
        return self._distinct(self._short_named.filter(pl.col("city") != ""), pl.col("short").str.slice(0, 2), "city")

    @cached_property
    def full_heads(self) -> set[tuple[str, str]]:
        """a full-named record's stem head and city (against known short names)"""
        return self._distinct(self._full_named.filter(pl.col("city") != ""), pl.col("full").str.slice(0, 2), "city")

    @cached_property
    def core_heads(self) -> set[str]:
        """a full-named record's core head (against known short names, with or without place)"""
        return self._distinct(self._full_named, pl.col("core").str.slice(0, 2))

    @cached_property
    def short_names(self) -> set[str]:
        return self._distinct(self.frame.filter(pl.col("short") != ""), "short")

    @cached_property
    def new_stems(self) -> list[str]:
        """the new full names' stems, which the character model counts with the stored ones"""
        return [f for f in self.frame["full"].to_list() if f]


def _pair_frame(pairs: Any, left: str, right: str) -> pl.DataFrame:
    """Key pairs (a set of tuples, or a frame of two columns) as a frame with the join's column names."""
    if isinstance(pairs, pl.DataFrame):
        return pairs.rename(dict(zip(pairs.columns, (left, right))))
    return pl.DataFrame(list(pairs), schema={left: pl.String, right: pl.String}, orient="row")


def known_blocking(session: Session, new_ids: set[int], cores: set[str] | pl.Series, heads: Any, tails: Any,
                   rests: Any, rest_of: dict[str, str] | Any,
                   shorts: ShortKeys) -> tuple[pa.Table, CharModel | None]:
    """The known firms (not merged away, not among the new) that share a blocking key with a new record: its name
    core, the core's head with the city, its tail with the district, the address rest with the district, or a
    short-name key (ShortKeys) — column by column over the whole table (a million firms), with the keys compared
    as tuples are. With them, the character model of the stored full names where a short name is in play."""
    # The driver's own rows, a chunk at a time into polars: a million firms through the ORM's result processing
    # cost seconds more, and all of them as Python tuples at once a gigabyte more.
    names = ("id", "norm", "district", "city", "address", "uscc", "founded", "listing", "name_en", "industry")
    schema = {"id": pl.Int64, **{n: pl.String for n in names[1:6]}, "listing": pl.String, "name_en": pl.String,
              "industry": pl.String}
    frames = [pl.DataFrame(schema={n: schema.get(n, pl.String) for n in names})]
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        # the new firms were just written with one run of ids (a million of them in a first import): read past it
        run = id_run(i for i in new_ids if i > 0)
        run_sql = " AND (id < %d OR id > %d)" % run if run else ""
        cursor.execute("SELECT id, name_norm, district_code, city_code, address, uscc, founded_on, listing_code, "
                       "name_en, industry FROM enterprises WHERE merged_into_id IS NULL" + run_sql)
        while rows := cursor.fetchmany(100_000):
            frame = pl.DataFrame(dict(zip(names, map(list, zip(*rows)))), schema_overrides=schema, strict=False)
            frames.append(frame.with_columns(pl.col("founded").cast(pl.String)).select(names))  # ISO dates
    finally:
        cursor.close()
    known = pl.concat(frames)
    # else (a first import) there is nothing to look the keys up in: none of the million new keys is listed
    stored = not known.is_empty()
    if stored:
        known = known.filter(~pl.col("id").is_in(list(new_ids)))
        stored = not known.is_empty()
    # keys given as functions are made only now, and only if a stored firm is there to meet them
    heads, tails, rests = ((x() if callable(x) else x) if stored else () for x in (heads, tails, rests))
    rest_of = (rest_of() if callable(rest_of) else rest_of) if stored else {}
    norms = known["norm"].unique(maintain_order=True).to_list()  # each stored name's key once, column-wise
    keys = name_keys(norms)
    addresses = [a for a in known["address"].unique(maintain_order=True).to_list() if a and a not in rest_of]
    rest_of.update(zip(addresses, address_rests(addresses)))
    address_keys = [a for a in rest_of if a] if stored else []
    known = known.with_columns(
        core=pl.col("norm").replace_strict(norms, keys.core, return_dtype=pl.String),
        is_branch=pl.col("norm").replace_strict(norms, keys.is_branch, return_dtype=pl.Boolean),
        rest=pl.col("address").replace_strict(address_keys, [rest_of[a] for a in address_keys], default="",
                                              return_dtype=pl.String),
    )
    known = known.with_columns(head=pl.col("core").str.slice(0, 2), tail=pl.col("core").str.slice(-3),
                               district_rest=pl.when(pl.col("district") != "").then("rest").otherwise(pl.lit("")))
    hit = pl.col("core").is_in(cores.unique().to_list() if isinstance(cores, pl.Series) else list(cores)) \
        if stored else pl.lit(False)
    for (left, right), pairs in ((("head", "city"), heads), (("tail", "district"), tails),
                                 (("district_rest", "district"), rests)):
        # a join matches equal keys exactly as the tuples would (a None never meets a stored text: none is NULL)
        found = _pair_frame(pairs, left, right).drop_nulls().unique().with_columns(
            **{f"_{left}": pl.lit(True)})
        known = known.join(found, on=[left, right], how="left", maintain_order="left")
        hit = hit | pl.col(f"_{left}").fill_null(False)
    # short names: a stored firm named by its short name against the new full names, and the other way round
    full = full_name_norms(pl.col("norm"))
    known = known.with_columns(full=full, short=pl.when(~full & pl.col("norm").str.contains("[一-鿿]"))
                               .then(short_forms(pl.col("norm"))))
    short_head, full_head = pl.col("short").str.slice(0, 2), pl.col("norm").str.slice(0, 2)
    if stored:
        hit = (hit | pl.col("short").is_in(list(shorts.short_names))
               | short_head.is_in(list(shorts.core_heads)) | (pl.col("short").is_not_null()
                                                              & pl.col("head").is_in(list(shorts.core_heads)))
               | (pl.col("full") & pl.col("head").is_in(list(shorts.short_heads | shorts.short_cores))))
    for (left, right, on), pairs in ((("_sh", "city", short_head), shorts.full_heads),
                                     (("_fh", "city", pl.when("full").then(full_head)), shorts.short_city_heads)):
        pairs = pairs if stored else ()
        found = pl.DataFrame(list(pairs), schema={left: pl.String, right: pl.String}, orient="row").with_columns(
            **{f"_{left}": pl.lit(True)})
        known = known.with_columns(on.alias(left)).join(found, on=[left, right], how="left", maintain_order="left")
        hit = hit | pl.col(f"_{left}").fill_null(False)
    known = known.filter(hit)
    listing_of = {code: listing_key(code) for code in known["listing"].unique().to_list() if code}
    blank = {c: pl.when(pl.col(c) != "").then(c) for c in ("core", "district", "city", "rest", "uscc", "founded")}
    stems = known.filter("full")["norm"].unique().to_list()
    table = known.select(
        id="id", is_new=pl.lit(False), name_core=blank["core"], is_branch="is_branch",
        district_code=blank["district"], city_code=blank["city"], address=blank["rest"], uscc=blank["uscc"],
        founded=blank["founded"], listing=pl.col("listing").replace_strict(
            list(listing_of), list(listing_of.values()), default=None, return_dtype=pl.String),
        short_name="short", name_full=pl.col("norm").replace_strict(stems, legal_stems(stems), default=None,
                                                                    return_dtype=pl.String),
        name_en="name_en", industry=pl.when(pl.col("industry") != "").then("industry"),
    )
    english = [x for x in table["name_en"].unique().to_list() if x]
    table = table.with_columns(name_en=pl.col("name_en").replace_strict(
        english, [_english_core(x) for x in english], default=None, return_dtype=pl.String)).to_arrow()
    model = None
    if shorts.short_heads or table.column("short_name").null_count < table.num_rows:
        stored_full = pl.DataFrame({"n": norms}, schema={"n": pl.String}).filter(full_name_norms(pl.col("n")))
        model = CharModel(legal_stems(stored_full["n"].to_list()) + shorts.new_stems)
    return table, model


def linkage_records(session: Session,
                    firms: NewFirms) -> tuple[pa.Table, CharModel | None, dict[int, tuple[int, str]]]:
    """Every record splink scores for these new firms — their rows; their former names (曾用名), each a record of
    its own with the row's other fields; the known firms sharing a blocking key with any of them; the stored firms'
    former names — with the character model and, for each former-name record (negative id), its firm and name."""
    renamed, owner = incoming_former_names(session, firms)
    table, model = linkage_table(session, firms + renamed)
    former, stored_owner = former_names(session, set(firms.ids))
    if former.num_rows:
        table = pa.concat_tables([table, former.cast(table.schema)])
    return table, model, {**owner, **stored_owner}


def incoming_former_names(session: Session, firms: NewFirms) -> tuple[NewFirms, dict[int, tuple[int, str]]]:
    """The new rows' former names as records of their own (the row renamed, everything else kept), so a former
    name is matched like a name — fuzzily, by short name, with the place — and not only exactly. Their ids are
    negative and below every stored former name's (-alias id), so the two never meet."""
    at, keys, owner = [], [], {}
    next_id = -(session.scalar(select(func.max(EnterpriseAlias.id))) or 0) - 1
    for i, aliases in enumerate(firms.aliases):
        for alias, kind in aliases or ():
            key = name_key(alias) if kind == "former" else None
            if key is None or not key.core:
                continue
            at.append(i)
            keys.append(key)
            owner[next_id - len(keys) + 1] = (firms.ids[i], alias)
    renamed = NewFirms([next_id - k for k in range(len(keys))], [alias for _, alias in owner.values()],
                       [k.norm for k in keys], [k.core for k in keys], [k.is_branch for k in keys],
                       {c: [values[i] for i in at] for c, values in firms.values.items()}, [[] for _ in keys],
                       [firms.rests[i] for i in at] if firms.rests is not None else None)
    return renamed, owner


def link_new(session: Session, firms: NewFirms, batch_id: int, by_user: str) -> tuple[set[int], int, set[int]]:
    """Merge confident matches (reversibly), queue doubtful ones; returns the ids merged away, the queue size and
    the firms they were merged into."""
    from chainatlas.services.ingest.review import MergePair, merge_many

    table, model, owner = linkage_records(session, firms)
    values = industry_u(firms.values["industry"], industry_words(session, firms))
    matches = owned(find_matches(table, REVIEW_THRESHOLD, model, values=values), owner)
    if not matches:
        return set(), 0, set()
    new_ids = set(firms.ids)
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    # confident pairs form clusters; the survivor is a known firm if there is one, else the earliest row
    short_named = set(table.filter(pc.and_(pc.not_equal(table["short_name"], ""), pc.is_null(table["name_full"])))[
        "id"].to_pylist())
    unsure = fits_several(matches, short_named)
    confident = [m for m in matches if m.probability >= MERGE_THRESHOLD and (m.left_id, m.right_id) not in unsure]
    for m in confident:
        a, b = root(m.left_id), root(m.right_id)
        if a == b:
            continue
        a_known, b_known = a not in new_ids, b not in new_ids
        if a_known and b_known:
            continue  # two known firms are never merged by an import; that is an analyst's decision
        keep, drop = (a, b) if (a_known or (not b_known and a < b)) else (b, a)
        parent[drop] = keep
    best: dict[int, Any] = {}
    for m in confident:  # best first, so the first pair naming a record is its strongest evidence
        best.setdefault(m.left_id, m)
        best.setdefault(m.right_id, m)
    pairs = [MergePair(root(eid), eid, best[eid].probability, best[eid].evidence)
             for eid in sorted(best) if root(eid) != eid and eid in new_ids]
    merge_many(session, pairs, by_user=by_user, batch_id=batch_id, decided_by="auto")
    linked = {p.merged_id for p in pairs}
    queued = []
    seen = set()
    for m in matches:
        if m.probability >= MERGE_THRESHOLD and (m.left_id, m.right_id) not in unsure:
            continue
        a, b = root(m.left_id), root(m.right_id)
        pair = (min(a, b), max(a, b))
        if a == b or pair in seen:
            continue
        seen.add(pair)
        evidence = {**m.evidence, "several": unsure[(m.left_id, m.right_id)]} if (m.left_id, m.right_id) in unsure \
            else m.evidence
        queued.append({"left_id": pair[0], "right_id": pair[1], "probability": round(m.probability, 4),
                       "evidence": evidence, "status": "pending", "batch_id": batch_id, "decided_by": "",
                       "decided_at": None, "snapshot": {}})
    bulk.insert_rows(session, MergeCandidate.__table__, queued)
    return linked, len(queued), {p.survivor_id for p in pairs}


def id_run(ids: Iterable[int]) -> tuple[int, int] | None:
    """(first, last) when the ids are one unbroken run — as the firms one write step inserted are — else None."""
    ordered = sorted(ids)
    return (ordered[0], ordered[-1]) if ordered and ordered[-1] - ordered[0] + 1 == len(ordered) else None


def industry_words(session: Session, firms: NewFirms | None = None) -> dict[str, int]:
    """The industry words (所属行业) of the stored firms, the new ones among them, with how many firms use each.
    New firms just written with one run of ids (`firms`) are counted from their values, the others in SQL: a
    million-row file's own words are in memory already, and SQL would read the whole table for them."""
    query = select(Enterprise.industry, func.count()).where(Enterprise.merged_into_id.is_(None),
                                                            Enterprise.industry != "")
    run = id_run(firms.ids) if firms is not None else None
    if run is None or run[0] <= 0:
        return {word: n for word, n in session.execute(query.group_by(Enterprise.industry))}
    words = {word: n for word, n in session.execute(
        query.where(or_(Enterprise.id < run[0], Enterprise.id > run[1])).group_by(Enterprise.industry))}
    for word, n in pl.Series(firms.values["industry"], dtype=pl.String).value_counts().iter_rows():
        if word:
            words[word] = words.get(word, 0) + n
    return words


def fits_several(matches: list[Match], short_named: set[int]) -> dict[tuple[int, int], str]:
    """The confident pairs whose one side fits several firms that are not confidently one another: a record with
    two confident partners, or a short name (short_named) with a confident partner and any other candidate (东风汽车
    read in both the group's and the listed company's full name). Each such pair goes to review, with a note naming
    how many firms the record fits, instead of being merged into one of them blindly."""
    partners: dict[int, set[int]] = {}
    together = set()
    for m in matches:
        sure = m.probability >= MERGE_THRESHOLD
        if sure:
            together.add((m.left_id, m.right_id))
        for a, b in ((m.left_id, m.right_id), (m.right_id, m.left_id)):
            if sure or a in short_named:
                partners.setdefault(a, set()).add(b)
    several: dict[int, int] = {}
    for eid, others in partners.items():
        ordered = sorted(others)
        if any((a, b) not in together for i, a in enumerate(ordered) for b in ordered[i + 1:]):
            several[eid] = len(others)
    return {(m.left_id, m.right_id): f"符合{max(several.get(m.left_id, 0), several.get(m.right_id, 0))}家企业，需人工确认"
            for m in matches if m.probability >= MERGE_THRESHOLD and (m.left_id in several or m.right_id in several)}


def former_names(session: Session, new_ids: set[int]) -> tuple[pa.Table, dict[int, tuple[int, str]]]:
    """The stored firms' former names (曾用名) as records of their own for splink — a name a firm was registered under
    is matched like its name — with each record's id (negative: -alias id) → (the firm, the former name)."""
    rows = session.execute(
        select(EnterpriseAlias.id, EnterpriseAlias.enterprise_id, EnterpriseAlias.alias, Enterprise.district_code,
               Enterprise.city_code)
        .join(Enterprise, Enterprise.id == EnterpriseAlias.enterprise_id)
        .where(EnterpriseAlias.kind == "former", Enterprise.merged_into_id.is_(None))).all()
    records, owner = [], {}
    for alias_id, firm, alias, district, city in rows:
        if firm in new_ids:
            continue
        key = name_key(alias)
        full = looks_like_full_name(alias)
        records.append({"id": -alias_id, "is_new": False, "name_core": key.core or None, "is_branch": key.is_branch,
                        "district_code": district, "city_code": city, "address": None, "uscc": None,
                        "founded": None, "listing": None, "short_name": None if full else (short_form(alias) or None),
                        "name_full": legal_stem(key.norm) if full else None, "name_en": None,
                        "industry": None})
        owner[-alias_id] = (firm, alias)
    return pa.Table.from_pylist(records), owner


def owned(matches: list[Match], owner: dict[int, tuple[int, str]]) -> list[Match]:
    """Matches with a former name's record read as its firm (the evidence says which name), each pair once (best
    first), none of a firm with itself."""
    if not owner:
        return matches
    found: dict[tuple[int, int], Match] = {}
    for m in matches:
        left, right = (owner[x][0] if x in owner else x for x in (m.left_id, m.right_id))
        if left == right:
            continue
        pair = (min(left, right), max(left, right))
        if pair not in found:
            former = [owner[x][1] for x in (m.left_id, m.right_id) if x in owner]
            evidence = {**m.evidence, "name_core": f"{m.evidence.get('name_core', '')}（曾用名 {former[0]}）"} \
                if former else m.evidence
            found[pair] = Match(*pair, m.probability, evidence)
    return sorted(found.values(), key=lambda m: -m.probability)
