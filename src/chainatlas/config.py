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
| CHAINATLAS_KERNEL | auto | placement kernel: auto (compiled where built, else pure Python), python, compiled (refuse to run without it) |
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///./chainatlas.db"


def database_url() -> str:
    return os.environ.get("CHAINATLAS_DATABASE_URL", DEFAULT_DATABASE_URL)


def default_chain() -> str:
    return os.environ.get("CHAINATLAS_CHAIN", "nev-icv")


def default_zone() -> str:
    return os.environ.get("CHAINATLAS_ZONE", "wuhan-edz")


def home() -> Path:
    path = Path(os.environ.get("CHAINATLAS_HOME", "./.chainatlas"))
    path.mkdir(parents=True, exist_ok=True)
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
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()
