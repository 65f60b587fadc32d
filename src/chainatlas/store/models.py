"""The database schema (SQLAlchemy 2 ORM). SQLite by default, PostgreSQL by URL; Alembic migrates it.

Money columns are integers of yuan (`*_yuan`); the UI formats them as 亿元/万元 at the edge.
Every row that users import or type carries `source` so each number can be traced back to its file or person.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON}


# ---------------------------------------------------------------- chain and geography


class ChainRow(Base):
    """A chain loaded from a chain file; nodes are copied here so SQL can join placements to names."""

    __tablename__ = "chains"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[str] = mapped_column(String(40), default="1")
    file_path: Mapped[str] = mapped_column(String(500), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")  # of the file registered: re-adding it changes nothing
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChainNodeRow(Base):
    __tablename__ = "chain_nodes"
    chain_id: Mapped[str] = mapped_column(ForeignKey("chains.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(String(80))
    stage: Mapped[str] = mapped_column(String(20))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    core: Mapped[bool] = mapped_column(Boolean, default=False)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    fingerprint: Mapped[str] = mapped_column(String(32), default="")


class Region(Base):
    """GB/T 2260 division (province 2, city 4, county 6 digits; streets 9 digits from the NBS table)."""

    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(12))  # province / city / county / street
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)


class Zone(Base):
    """A development zone: a set of provinces, cities, counties, streets and parks (武汉经开区 has no division code
    of its own)."""

    __tablename__ = "zones"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    name_en: Mapped[str] = mapped_column(String(200), default="")
    city_code: Mapped[str] = mapped_column(String(12), default="")  # its city when all its members are in one
    source: Mapped[str] = mapped_column(String(200), default="")
    aliases: Mapped[list] = mapped_column(JSON, default=list)  # other names users type (中国车谷)
    address_keywords: Mapped[list] = mapped_column(JSON, default=list)  # address words that put a firm in the zone
    members: Mapped[list["ZoneMember"]] = relationship(cascade="all, delete-orphan", back_populates="zone")
    parks: Mapped[list["Park"]] = relationship(cascade="all, delete-orphan", back_populates="zone")


class ZoneMember(Base):
    __tablename__ = "zone_members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    zone_id: Mapped[str] = mapped_column(ForeignKey("zones.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # province / city / county / street
    region_code: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100))
    zone: Mapped[Zone] = relationship(back_populates="members")


class Park(Base):
    __tablename__ = "parks"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    zone_id: Mapped[str] = mapped_column(ForeignKey("zones.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    focus: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list] = mapped_column(JSON, default=list)  # address words that put a firm in this park
    zone: Mapped[Zone] = relationship(back_populates="parks")


# ---------------------------------------------------------------- enterprises


class Enterprise(Base):
    __tablename__ = "enterprises"
    # Most firms are outside the zone and never merged; every query asks for a value, so only rows with one.
    __table_args__ = tuple(
        Index(f"ix_enterprises_{column}", column, sqlite_where=text(f"{column} IS NOT NULL"),
              postgresql_where=text(f"{column} IS NOT NULL"))
        for column in ("zone_id", "merged_into_id")
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uscc: Mapped[str | None] = mapped_column(String(18), index=True, unique=True)  # an index: imports rebuild it
    name: Mapped[str] = mapped_column(String(200), index=True)
    name_norm: Mapped[str] = mapped_column(String(200), index=True, default="")
    name_en: Mapped[str] = mapped_column(String(300), default="")
    short_name: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    province_code: Mapped[str] = mapped_column(String(2), default="")
    city_code: Mapped[str] = mapped_column(String(4), default="")
    district_code: Mapped[str] = mapped_column(String(6), default="")
    street_code: Mapped[str] = mapped_column(String(12), default="")
    zone_id: Mapped[str | None] = mapped_column(ForeignKey("zones.id"))  # indexed where set (__table_args__)
    park_id: Mapped[str | None] = mapped_column(ForeignKey("parks.id"))
    registered_capital: Mapped[int | None] = mapped_column(BigInteger)  # in units of the currency below
    capital_currency: Mapped[str] = mapped_column(String(3), default="CNY")
    registered_capital_yuan: Mapped[int | None] = mapped_column(BigInteger)  # converted, for comparison
    founded_on: Mapped[date | None] = mapped_column(Date)
    industry_code: Mapped[str] = mapped_column(String(8), default="")  # GB/T 4754-2017
    industry: Mapped[str] = mapped_column(String(200), default="")  # 所属行业 as the file names it (placement evidence)
    business_scope: Mapped[str] = mapped_column(Text, default="")
    ownership: Mapped[str] = mapped_column(String(40), default="")  # 国企/民企/外资/合资/港澳台…
    foreign_invested: Mapped[bool] = mapped_column(Boolean, default=False)
    listing_code: Mapped[str] = mapped_column(String(20), default="")
    employees: Mapped[int | None] = mapped_column(Integer)
    revenue_yuan: Mapped[int | None] = mapped_column(BigInteger)
    output_yuan: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(40), default="")  # 存续/在业/吊销/注销/经营异常
    risk_flags: Mapped[list] = mapped_column(JSON, default=list)  # e.g. ["ST", "经营异常"]
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)  # 链主企业 of the zone
    parent_group: Mapped[str] = mapped_column(String(200), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(200), default="")  # demo / import:<batch> / manual / public
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))  # indexed where set
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    aliases: Mapped[list["EnterpriseAlias"]] = relationship(cascade="all, delete-orphan", back_populates="enterprise")
    products: Mapped[list["EnterpriseProduct"]] = relationship(cascade="all, delete-orphan", back_populates="enterprise")
    designations: Mapped[list["Designation"]] = relationship(cascade="all, delete-orphan", back_populates="enterprise")
    placements: Mapped[list["Placement"]] = relationship(cascade="all, delete-orphan", back_populates="enterprise")

    @property
    def is_demo(self) -> bool:
        return self.source == "demo"


class EnterpriseAlias(Base):
    __tablename__ = "enterprise_aliases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="other")  # former / english / short / other
    source: Mapped[str] = mapped_column(String(200), default="")  # import:<batch>, merge:<merged id>, demo …
    recorded_on: Mapped[date | None] = mapped_column(Date)  # when the name became this firm's alias
    enterprise: Mapped[Enterprise] = relationship(back_populates="aliases")
    __table_args__ = (UniqueConstraint("enterprise_id", "alias", name="uq_alias"),)


class EnterpriseProduct(Base):
    __tablename__ = "enterprise_products"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    product: Mapped[str] = mapped_column(String(200))
    revenue_share: Mapped[float | None] = mapped_column(Float)  # 0..1 where known
    source: Mapped[str] = mapped_column(String(200), default="")  # import:<batch> of the file that gave the line
    enterprise: Mapped[Enterprise] = relationship(back_populates="products")


class Designation(Base):
    """专精特新 / 小巨人 / 高新技术企业 / 独角兽 / 瞪羚 / 500强 …, with level (国家级/省级) and year."""

    __tablename__ = "designations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(20), default="")
    year: Mapped[int | None] = mapped_column(Integer)
    enterprise: Mapped[Enterprise] = relationship(back_populates="designations")


class Placement(Base):
    """An enterprise on a chain node, with how we know it.

    method: rule (classifier), manual (an analyst), imported (from a file). A manual row with
    rejected=True means "not on this node"; with node_id NULL and rejected=True, "not on this chain".
    Manual rows always win over rule rows and survive re-classification.
    """

    __tablename__ = "placements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    chain_id: Mapped[str] = mapped_column(String(64), index=True)
    node_id: Mapped[str | None] = mapped_column(String(80), index=True)
    method: Mapped[str] = mapped_column(String(12))
    rejected: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    node_fingerprint: Mapped[str] = mapped_column(String(32), default="")
    created_by: Mapped[str] = mapped_column(String(80), default="system")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    enterprise: Mapped[Enterprise] = relationship(back_populates="placements")
    __table_args__ = (Index("ix_placement_chain_node", "chain_id", "node_id"),)


class Relation(Base):
    """supplier → customer (e.g. a battery maker supplying an OEM), for a product or component and a year."""

    __tablename__ = "relations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    product: Mapped[str] = mapped_column(String(200), default="")
    node_id: Mapped[str | None] = mapped_column(String(80))
    year: Mapped[int | None] = mapped_column(Integer)
    value_yuan: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200), default="")
    __table_args__ = (UniqueConstraint("supplier_id", "customer_id", "product", "year", name="uq_relation"),)


# ---------------------------------------------------------------- projects and targets


class Project(Base):
    """A row of the 招商项目台账."""

    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # 区级编码: YYYYMMDD + 3-digit serial
    name: Mapped[str] = mapped_column(String(200))
    zone_id: Mapped[str | None] = mapped_column(ForeignKey("zones.id"), index=True)
    investor_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    investor_name: Mapped[str] = mapped_column(String(200), default="")
    chain_id: Mapped[str] = mapped_column(String(64), default="")
    node_ids: Mapped[list] = mapped_column(JSON, default=list)
    project_type: Mapped[str] = mapped_column(String(20), default="新建")  # 新建/扩建/总部/研发中心/其他
    purpose: Mapped[str] = mapped_column(String(10), default="")  # 补链/强链/延链
    investment_yuan: Mapped[int | None] = mapped_column(BigInteger)  # 计划投资额 / 签约金额
    fixed_investment_yuan: Mapped[int | None] = mapped_column(BigInteger)  # 固定资产投资
    funds_in_place_yuan: Mapped[int | None] = mapped_column(BigInteger)  # 当年到位资金
    expected_output_yuan: Mapped[int | None] = mapped_column(BigInteger)  # 预计年产值
    expected_tax_yuan: Mapped[int | None] = mapped_column(BigInteger)  # 预计年税收
    jobs: Mapped[int | None] = mapped_column(Integer)
    land_mu: Mapped[float | None] = mapped_column(Float)
    park_id: Mapped[str | None] = mapped_column(ForeignKey("parks.id"))
    officer: Mapped[str] = mapped_column(String(80), default="")  # 区投促局责任人
    leader: Mapped[str] = mapped_column(String(80), default="")  # 区级责任领导
    source_kind: Mapped[str] = mapped_column(String(40), default="")  # 目标推荐/以商招商/展会/拜访/…
    source_detail: Mapped[str] = mapped_column(String(300), default="")
    foreign_invested: Mapped[bool] = mapped_column(Boolean, default=False)
    fdi_usd: Mapped[int | None] = mapped_column(BigInteger)
    stage: Mapped[str] = mapped_column(String(10), default="线索", index=True)
    stage_changed_on: Mapped[date | None] = mapped_column(Date)
    signed_on: Mapped[date | None] = mapped_column(Date)
    registered_on: Mapped[date | None] = mapped_column(Date)
    started_on: Mapped[date | None] = mapped_column(Date)
    producing_on: Mapped[date | None] = mapped_column(Date)
    hold_reason: Mapped[str] = mapped_column(Text, default="")
    next_action: Mapped[str] = mapped_column(Text, default="")
    next_action_on: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200), default="")  # demo / import:<batch> / manual
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    stage_changes: Mapped[list["StageChange"]] = relationship(
        cascade="all, delete-orphan", back_populates="project", order_by="StageChange.id"
    )
    activities: Mapped[list["ProjectActivity"]] = relationship(
        cascade="all, delete-orphan", back_populates="project", order_by="ProjectActivity.id"
    )
    # Optimistic concurrency on the stage: every UPDATE of a project says "WHERE stage = <the stage read>", so of
    # two users moving the same project at once the second finds no row and fails (StaleDataError) instead of
    # writing a history whose from-stage is no longer true. The stage itself is the version (set by the code).
    __mapper_args__ = {"version_id_col": stage, "version_id_generator": False}


class StageChange(Base):
    __tablename__ = "project_stage_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(10))
    to_stage: Mapped[str] = mapped_column(String(10))
    changed_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    by_user: Mapped[str] = mapped_column(String(80), default="system")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    project: Mapped[Project] = relationship(back_populates="stage_changes")


class ProjectActivity(Base):
    """Visit and contact log (走访/接待/洽谈/电话), with the next action agreed."""

    __tablename__ = "project_activities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20), default="拜访")
    content: Mapped[str] = mapped_column(Text, default="")
    by_user: Mapped[str] = mapped_column(String(80), default="")
    project: Mapped[Project] = relationship(back_populates="activities")


class YearlyTarget(Base):
    """A yearly target on one measure (签约项目数, 签约投资额, 亿元以上项目数, 开工, 投产, 产值), chain- or node-wide."""

    __tablename__ = "yearly_targets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    zone_id: Mapped[str] = mapped_column(ForeignKey("zones.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(String(40))
    chain_id: Mapped[str] = mapped_column(String(64), default="")
    node_id: Mapped[str] = mapped_column(String(80), default="")  # '' = the whole chain
    target_value: Mapped[int] = mapped_column(BigInteger)  # count, or yuan for money measures
    source: Mapped[str] = mapped_column(String(300), default="")
    __table_args__ = (UniqueConstraint("zone_id", "year", "measure", "chain_id", "node_id", name="uq_target"),)


class TargetWeights(Base):
    """A user's saved weights for ranking target companies (issue 6)."""

    __tablename__ = "target_weights"
    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    weights: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


# ---------------------------------------------------------------- sites (载体)


class Site(Base):
    """A row of the 载体台账: a land plot (areas in 亩), a standard factory or an office (areas in ㎡).

    area_m2 is the one stored area (land: 亩 × 10000/15), so needs and sites compare in one unit; status_since is
    the day the status last changed, from which idle time is counted. Money: land price in integer yuan per 亩,
    rent in integer 分 (0.01 yuan) per ㎡ per month because rents are quoted to the jiao (e.g. 18.5 元/㎡·月).
    """

    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # 载体编号
    zone_id: Mapped[str] = mapped_column(ForeignKey("zones.id"), index=True)
    park_id: Mapped[str | None] = mapped_column(ForeignKey("parks.id"))
    kind: Mapped[str] = mapped_column(String(12))  # land / factory / office
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500), default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    area_m2: Mapped[float] = mapped_column(Float)
    land_use: Mapped[str] = mapped_column(String(4), default="")  # GB 50137: M1/M2/M3/W/B/A
    plot_ratio: Mapped[float | None] = mapped_column(Float)  # 容积率
    land_price_yuan_per_mu: Mapped[int | None] = mapped_column(BigInteger)
    floors: Mapped[int | None] = mapped_column(Integer)
    floor_load_kn_m2: Mapped[float | None] = mapped_column(Float)  # 楼面荷载
    clear_height_m: Mapped[float | None] = mapped_column(Float)  # 净高
    power_kva: Mapped[int | None] = mapped_column(Integer)  # 供电容量
    rent_fen_per_m2_month: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="可供", index=True)
    status_since: Mapped[date | None] = mapped_column(Date)
    available_from: Mapped[date | None] = mapped_column(Date)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="SET NULL"))
    output_yuan: Mapped[int | None] = mapped_column(BigInteger)  # occupant's yearly output on this site
    tax_yuan: Mapped[int | None] = mapped_column(BigInteger)  # occupant's yearly tax on this site
    figures_year: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200), default="")  # demo / import:<batch> / manual
    as_of: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    events: Mapped[list["SiteEvent"]] = relationship(
        cascade="all, delete-orphan", back_populates="site", order_by="SiteEvent.id"
    )


class SiteEvent(Base):
    """A change of a site's status or holder (洽谈中 for project X, 已出让, released …): the site's history."""

    __tablename__ = "site_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    on: Mapped[date] = mapped_column(Date)
    from_status: Mapped[str | None] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    by_user: Mapped[str] = mapped_column(String(80), default="system")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    site: Mapped[Site] = relationship(back_populates="events")


# ---------------------------------------------------------------- imports, review, users, audit


class ImportBatch(Base):
    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # enterprises / relations / projects
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_inserted: Mapped[int] = mapped_column(Integer, default=0)
    rows_merged: Mapped[int] = mapped_column(Integer, default=0)
    rows_held: Mapped[int] = mapped_column(Integer, default=0)
    by_user: Mapped[str] = mapped_column(String(80), default="system")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    as_of: Mapped[date | None] = mapped_column(Date)  # the date the file's facts describe (default: the import's day)


class HeldRow(Base):
    """An invalid row held back from an import, with its problems, so nothing is silently dropped."""

    __tablename__ = "import_held_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id", ondelete="CASCADE"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    problems: Mapped[list] = mapped_column(JSON, default=list)


class MergeCandidate(Base):
    """A doubtful pair from entity resolution waiting for an analyst: accept, reject (or split after merge)."""

    __tablename__ = "merge_candidates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    left_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    right_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    probability: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending/accepted/rejected/split
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    decided_by: Mapped[str] = mapped_column(String(80), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)  # what a merge changed, to undo it


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(12))  # admin / analyst / viewer / leader
    view_zone: Mapped[str] = mapped_column(String(64), default="")  # the zone and chain the pages show this user
    view_chain: Mapped[str] = mapped_column(String(64), default="")  # ("" = the defaults from settings)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # raised by logout, password change or reset and deactivation: sessions signed with an older one have ended
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginFailure(Base):
    """A wrong password for a user from a source ("addr:IP", or "device:ID" for a browser that signed in as that
    user before); the back-off of services/accounts/throttle.py counts them, in every worker alike."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_login_failures_user_source", "username", "source", "at"),
                      Index("ix_login_failures_source", "source", "at"))


class AuditEntry(Base):
    """Every write: who, when, what, before and after."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(80), default="system")
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(80), default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    __table_args__ = (Index("ix_audit_entity", "entity_type", "entity_id"),)
