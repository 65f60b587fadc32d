"""Settings, all in one place: every environment variable the program reads, its default and its meaning.

Nothing else in the package reads a CHAINATLAS_* variable; code asks `settings()` (or one of the short accessors
below). The environment is read at each call, so a changed variable (a test's monkeypatch, a restarted server) counts
at once; a value that cannot be used is refused with the variable's name, whichever setting was asked for.
The README's configuration table lists exactly the variables of SETTINGS (a test checks it).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE_URL = "sqlite:///./chainatlas.db"


def _hours(env: str, text: str) -> float:
    try:
        hours = float(text.strip())
    except ValueError:
        hours = -1.0
    if not 0 <= hours < float("inf"):  # also refuses nan
        raise ValueError(f"环境变量 {env} 应为不小于 0 的小时数（例如 24），现为“{text}”。")
    return hours


def _flag(env: str, text: str) -> bool:
    if text.strip() not in ("0", "1"):
        raise ValueError(f"环境变量 {env} 应为 0 或 1，现为“{text}”。")
    return text.strip() == "1"


def _text(_env: str, text: str) -> str:
    return text


def _memory_mb(env: str, text: str) -> int:
    if not text.strip().isdigit() or int(text) < 256:
        raise ValueError(f"环境变量 {env} 应为不小于 256 的整数（MB，例如 4096），现为“{text}”。")
    return int(text)


def _networks(env: str, text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"环境变量 {env} 应为逗号分隔的 IP 地址或网段（例如 127.0.0.1,10.0.0.0/8），现为“{text}”。") from None


def _optional_text(_env: str, text: str) -> str | None:
    return text.strip() or None


def _days(env: str, text: str) -> int:
    if not text.strip().isdigit():
        raise ValueError(f"环境变量 {env} 应为天数（如 365），现为“{text}”。")
    return int(text)


def _zone_info(env: str, text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"环境变量 {env} 应为时区名（例如 Asia/Shanghai），现为“{text}”。") from exc


KERNELS = ("auto", "python", "compiled")


def _kernel(env: str, text: str) -> str:
    value = text.strip().lower() or "auto"
    if value not in KERNELS:
        raise ValueError(f"环境变量 {env} 应为 auto、python 或 compiled，现为“{text}”。")
    return value


def _busy_seconds(env: str, text: str) -> float:
    try:
        seconds = float(text.strip())
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 3600:
        raise ValueError(f"环境变量 {env} 应为 0–3600 之间的秒数（例如 60），现为“{text}”。")
    return seconds


def _path(_env: str, text: str) -> Path:
    return Path(text)


def _optional_path(_env: str, text: str) -> Path | None:
    return Path(text.strip()) if text.strip() else None


def _cache_folder(_env: str, text: str) -> Path | None:
    """A folder; "" for the user's cache folder ($XDG_CACHE_HOME or ~/.cache, %LOCALAPPDATA% on Windows, then
    chainatlas), "off" for none."""
    text = text.strip()
    if text.lower() == "off":
        return None
    if text:
        return Path(text)
    base = os.environ.get("LOCALAPPDATA" if os.name == "nt" else "XDG_CACHE_HOME", "").strip()
    if base:
        return Path(base) / "chainatlas"
    try:
        return Path.home() / ".cache" / "chainatlas"
    except (RuntimeError, KeyError):  # no home folder (a service account): no cache rather than no command
        return None


@dataclass(frozen=True)
class Setting:
    """One environment variable: the field of `Settings` it fills, its default (as text) and what it means."""

    field: str
    env: str
    default: str
    meaning: str
    parse: Callable[[str, str], Any] = _text


SETTINGS = (
    Setting("database_url", "CHAINATLAS_DATABASE_URL", DEFAULT_DATABASE_URL,
            "SQLAlchemy URL; postgresql+psycopg://… for PostgreSQL"),
    Setting("chain", "CHAINATLAS_CHAIN", "nev-icv", "the chain the CLI and the web app use when none is named"),
    Setting("zone", "CHAINATLAS_ZONE", "wuhan-edz", "the zone analysed when none is named"),
    Setting("home", "CHAINATLAS_HOME", "./.chainatlas", "instance folder: secret key, uploads, exports", _path),
    Setting("secret_key", "CHAINATLAS_SECRET_KEY", "",
            "signs session cookies; empty: a random key generated into CHAINATLAS_HOME/secret_key (mode 600)"),
    Setting("analysis_config", "CHAINATLAS_CONFIG", "",
            "YAML file overriding analysis settings (thresholds, weights); empty: the packaged defaults",
            _optional_path),
    Setting("upload_ttl_hours", "CHAINATLAS_UPLOAD_TTL_HOURS", "24",
            "web uploads previewed but never imported are deleted at start-up once older than this (imported ones "
            "at once)", _hours),
    Setting("session_hours", "CHAINATLAS_SESSION_HOURS", "12", "how long a web login lasts", _hours),
    Setting("cookie_secure", "CHAINATLAS_COOKIE_SECURE", "0",
            "1 = session cookie only over HTTPS (set it when served behind an https proxy)", _flag),
    Setting("trusted_proxies", "CHAINATLAS_TRUSTED_PROXIES", "",
            "comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is believed (login "
            "back-off counts by client address); empty: none", _networks),
    Setting("worker_memory_mb", "CHAINATLAS_WORKER_MEMORY_MB", "4096",
            "address space (MB) of the process that previews or imports a web upload; past it that job fails, the "
            "server lives", _memory_mb),
    Setting("timezone", "CHAINATLAS_TIMEZONE", "Asia/Shanghai",
            "the bureau's time zone: what \"today\" is (KPI, brief, demo ledger) and how times are shown", _zone_info),
    Setting("stale_days", "CHAINATLAS_STALE_DAYS", "365",
            "a fact whose source is older than this many days (its as-of date) is marked 待更新 on the pages", _days),
    Setting("sqlite_busy_seconds", "CHAINATLAS_SQLITE_BUSY_SECONDS", "60",
            "how long a SQLite write waits for another writer (an import) before it is refused with 503",
            _busy_seconds),
    Setting("kernel", "CHAINATLAS_KERNEL", "auto",
            "placement kernel: auto (compiled where built, else pure Python), python, compiled (refuse without it)",
            _kernel),
    Setting("placement_model", "CHAINATLAS_PLACEMENT_MODEL", "1",
            "1 = placement uses the chain's learned model where the chain has one (chains/<id>.model.json) to decide "
            "among the rules' candidate segments; 0 = the rules alone", _flag),
    Setting("build_cache", "CHAINATLAS_BUILD_CACHE", "",
            "folder where a chain file's compiled form (parsed chain, word tables, automaton) is kept between "
            "processes; empty: the user's cache folder (~/.cache/chainatlas); off: none", _cache_folder),
    Setting("spark_master", "CHAINATLAS_SPARK_MASTER", "",
            "Spark master URL for `--engine spark` (spark://host:7077, yarn, k8s://…) when --master is not given; "
            "empty: local[*]", _optional_text),
    Setting("baseline", "CHAINATLAS_BASELINE", "",
            "national baseline: the region × node matrix Parquet written by `chainatlas matrix`, compared with by "
            "gaps; empty: the firms in the database", _optional_path),
)


@dataclass(frozen=True)
class Settings:
    """The settings in force, typed; see SETTINGS for each one's variable, default and meaning."""

    database_url: str
    chain: str
    zone: str
    home: Path
    secret_key: str
    analysis_config: Path | None
    upload_ttl_hours: float
    session_hours: float
    cookie_secure: bool
    trusted_proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
    worker_memory_mb: int
    timezone: ZoneInfo
    stale_days: int
    sqlite_busy_seconds: float
    kernel: str
    placement_model: bool
    build_cache: Path | None
    spark_master: str | None
    baseline: Path | None



def settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from the environment (os.environ unless given), each variable parsed and checked."""
    env = os.environ if environ is None else environ
    return Settings(**{s.field: s.parse(s.env, env.get(s.env, s.default)) for s in SETTINGS})


_BY_FIELD = {s.field: s for s in SETTINGS}


def setting(field: str) -> Any:
    """One setting, parsed alone: a bad value of another variable does not stop a command that does not use it."""
    s = _BY_FIELD[field]
    return s.parse(s.env, os.environ.get(s.env, s.default))


def database_url() -> str:
    return setting("database_url")


def default_chain() -> str:
    return setting("chain")


def default_zone() -> str:
    return setting("zone")


def spark_master() -> str | None:
    """The Spark master for `--engine spark` when the command names none; None: local mode."""
    return setting("spark_master")


def baseline_path() -> Path | None:
    """The national baseline matrix (`chainatlas matrix --out`) the diagnosis compares the zone with; None: the
    firms in the database are the baseline."""
    return setting("baseline")


def stale_after_days() -> int:
    """Facts from a source older than this many days (its as-of date) are marked 待更新 on the pages."""
    return setting("stale_days")


def timezone() -> ZoneInfo:
    """The bureau's clock (default Asia/Shanghai): servers often run in UTC, where "today" begins 8 hours late."""
    return setting("timezone")


def now() -> datetime:
    return datetime.now(timezone())


def today() -> date:
    return now().date()


def local_time(moment: datetime | None) -> datetime | None:
    """A stored time (naive ones are UTC, as the database keeps them) in the bureau's time zone."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(timezone())


def chains_dir() -> Path:
    """Where `chainatlas chain add` keeps the chain files it registered (CHAINATLAS_HOME/chains); not created here."""
    return setting("home") / "chains"


def kernel() -> str:
    """Which placement kernel `classify` runs (engines/kernel.py): both give the same output, byte for byte."""
    return setting("kernel")


def placement_model() -> bool:
    """Whether placement applies a chain's learned model (engines/placement_model.py) where the chain has one."""
    return setting("placement_model")


def build_cache() -> Path | None:
    """The folder of the chain build cache (domain/build_cache.py); None: no cache."""
    return setting("build_cache")


def sqlite_busy_seconds() -> float:
    """How long a write waits for SQLite's lock (another writer's transaction) before giving up politely."""
    return setting("sqlite_busy_seconds")


def home() -> Path:
    """The instance folder, 0700: it holds the secret key and uploaded (confidential) lists."""
    path = setting("home")
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def upload_ttl_hours() -> float:
    """How long an uploaded file that was previewed but never imported may stay on disk (they are confidential)."""
    return setting("upload_ttl_hours")


def secret_key() -> str:
    """The cookie-signing key: from the environment, else a random key kept in the instance folder.

    Never a constant in code: a key in the repository would let anyone forge sessions.
    """
    key = setting("secret_key")
    if key:
        return key
    path = home() / "secret_key"
    if not path.exists():
        import secrets  # here: with hmac and hashlib ≈ 4 ms of the start of every command, which mostly need no key

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others, not even briefly
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


def worker_memory_mb() -> int:
    """Address space a web preview or import process may use (web/worker.py); past it that job fails, the server lives."""
    return setting("worker_memory_mb")


def trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Reverse proxies whose X-Forwarded-For is believed (web/security.py client_address); none by default, so a
    client cannot pick the address its failed logins are counted under."""
    return setting("trusted_proxies")
