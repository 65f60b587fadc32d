"""The per-process cache of the ranking's expensive arrays, keyed by the data version.

store/data_version.py moves with every committed write, so a cached value is rebuilt the moment the data changes,
whichever process changed it.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.orm import Session

from chainatlas.store import data_version

def version(session: Session) -> tuple:
    return (str(session.get_bind().url), *data_version.cache_key(session))


class VersionedCache:
    """(key) → (version, value); values are rebuilt when the version moves."""

    def __init__(self, size: int = 32) -> None:
        self._items: dict[tuple, tuple[tuple, Any]] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple, version: tuple) -> Any | None:
        with self._lock:
            hit = self._items.get(key)
        if hit is None or hit[0] != version:
            return None
        return hit[1]

    def put(self, key: tuple, version: tuple, value: Any) -> None:
        with self._lock:
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = (version, value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CACHE = VersionedCache()


def clear_cache() -> None:
    CACHE.clear()

