"""Settings read from environment variables, each with a documented default.

| variable | default | meaning |
| --- | --- | --- |
| CHAINATLAS_DATABASE_URL | sqlite:///./chainatlas.db | SQLAlchemy URL; postgresql+psycopg://… for PostgreSQL |
| CHAINATLAS_CHAIN | nev-icv | the chain shown by default |
| CHAINATLAS_ZONE | wuhan-edz | the zone analysed by default |
| CHAINATLAS_SECRET_KEY | (generated and kept in CHAINATLAS_HOME/secret_key) | signs session cookies |
| CHAINATLAS_HOME | ./.chainatlas | instance folder: secret key, uploads, exports |
| CHAINATLAS_CONFIG | (none) | YAML file overriding analysis settings (thresholds, weights) |
| CHAINATLAS_UPLOAD_TTL_HOURS | 24 | web uploads never imported are deleted at start-up once older than this (imported ones at once) |
| CHAINATLAS_TIMEZONE | Asia/Shanghai | the bureau's time zone: what "today" is (KPI, brief, demo ledger) and how times are shown |
| CHAINATLAS_TRUSTED_PROXIES | (none) | comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is believed |
| CHAINATLAS_SPARK_MASTER | (none: local[*]) | Spark master URL for `--engine spark` (spark://host:7077, yarn, k8s://…) when --master is not given |
| CHAINATLAS_BASELINE | (none: the database) | national baseline: region × node matrix Parquet written by `chainatlas matrix`, used by gaps (and targets' city list) |
| CHAINATLAS_SQLITE_BUSY_SECONDS | 60 | how long a SQLite write waits for another writer (an import) before it is refused with 503 |
| CHAINATLAS_WORKER_MEMORY_MB | 4096 | address space of the process that previews or imports a web upload; past it the job fails |
| CHAINATLAS_KERNEL | auto | placement kernel: auto (compiled where built, else pure Python), python, compiled (refuse to run without it) |
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE_URL = "sqlite:///./chainatlas.db"


def database_url() -> str:
    return os.environ.get("CHAINATLAS_DATABASE_URL", DEFAULT_DATABASE_URL)


def default_chain() -> str:
    return os.environ.get("CHAINATLAS_CHAIN", "nev-icv")


def stale_after_days() -> int:
    """Facts from a source older than this many days (its as-of date) are marked 待更新 on the pages."""
    text = os.environ.get("CHAINATLAS_STALE_DAYS", "365").strip()
    if not text.isdigit():
        raise ValueError(f"环境变量 CHAINATLAS_STALE_DAYS 应为天数（如 365），现为“{text}”。")
    return int(text)


def default_zone() -> str:
    return os.environ.get("CHAINATLAS_ZONE", "wuhan-edz")


def timezone() -> ZoneInfo:
    """The bureau's clock (default Asia/Shanghai): servers often run in UTC, where "today" begins 8 hours late."""
    name = os.environ.get("CHAINATLAS_TIMEZONE", "Asia/Shanghai").strip()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"环境变量 CHAINATLAS_TIMEZONE 应为时区名（例如 Asia/Shanghai），现为“{name}”。") from exc


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


def spark_master() -> str | None:
    """The Spark master for `--engine spark` when the command names none; None: local mode."""
    return os.environ.get("CHAINATLAS_SPARK_MASTER", "").strip() or None


def baseline_path() -> Path | None:
    """The national baseline matrix (`chainatlas matrix --out`) the diagnosis compares the zone with; None: the
    firms in the database are the baseline."""
    text = os.environ.get("CHAINATLAS_BASELINE", "").strip()
    return Path(text) if text else None


def chains_dir() -> Path:
    """Where `chainatlas chain add` keeps the chain files it registered (CHAINATLAS_HOME/chains); not created here."""
    return Path(os.environ.get("CHAINATLAS_HOME", "./.chainatlas")) / "chains"


def home() -> Path:
    """The instance folder, 0700: it holds the secret key and uploaded (confidential) lists."""
    path = Path(os.environ.get("CHAINATLAS_HOME", "./.chainatlas"))
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def upload_ttl_hours() -> float:
    """How long an uploaded file that was previewed but never imported may stay on disk (they are confidential)."""
    text = os.environ.get("CHAINATLAS_UPLOAD_TTL_HOURS", "24").strip()
    try:
        hours = float(text)
    except ValueError:
        hours = -1.0
    if not 0 <= hours < float("inf"):  # also refuses nan
        raise ValueError(f"环境变量 CHAINATLAS_UPLOAD_TTL_HOURS 应为不小于 0 的小时数（例如 24），现为“{text}”。")
    return hours


KERNELS = ("auto", "python", "compiled")


def kernel() -> str:
    """Which placement kernel `classify` runs (engines/kernel.py): both give the same output, byte for byte."""
    text = os.environ.get("CHAINATLAS_KERNEL", "auto").strip().lower() or "auto"
    if text not in KERNELS:
        raise ValueError(f"环境变量 CHAINATLAS_KERNEL 应为 auto、python 或 compiled，现为“{text}”。")
    return text


def secret_key() -> str:
    """The cookie-signing key: from the environment, else a random key kept in the instance folder.

    Never a constant in code: a key in the repository would let anyone forge sessions.
    """
    key = os.environ.get("CHAINATLAS_SECRET_KEY")
    if key:
        return key
    path = home() / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others, not even briefly
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


def sqlite_busy_seconds() -> float:
    """How long a write waits for SQLite's lock (another writer's transaction) before giving up politely."""
    text = os.environ.get("CHAINATLAS_SQLITE_BUSY_SECONDS", "60").strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 3600:
        raise ValueError(f"环境变量 CHAINATLAS_SQLITE_BUSY_SECONDS 应为 0–3600 之间的秒数（例如 60），现为“{text}”。")
    return seconds


def worker_memory_mb() -> int:
    """Address space a web preview or import process may use (web/worker.py); past it that job fails, the server lives."""
    text = os.environ.get("CHAINATLAS_WORKER_MEMORY_MB", "4096").strip()
    if not text.isdigit() or int(text) < 256:
        raise ValueError(f"环境变量 CHAINATLAS_WORKER_MEMORY_MB 应为不小于 256 的整数（MB，例如 4096），现为“{text}”。")
    return int(text)


def trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Reverse proxies whose X-Forwarded-For is believed (web/security.py client_address); none by default, so a
    client cannot pick the address its failed logins are counted under."""
    text = os.environ.get("CHAINATLAS_TRUSTED_PROXIES", "")
    try:
        return [ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"环境变量 CHAINATLAS_TRUSTED_PROXIES 应为逗号分隔的 IP 地址或网段（例如 127.0.0.1,10.0.0.0/8），"
                         f"现为“{text}”。") from None
