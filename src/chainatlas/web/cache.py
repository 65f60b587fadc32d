"""Caches that keep the JSON API fast under many concurrent readers (the leadership screen, dashboards).

- API responses: GET /api/… bodies, keyed by path, query, the data version and today's date. The data version
  (store/data_version.py) moves with every committed write, from this app or any other process (the CLI), so an
  answer is never older than the data; it is read for every request (one row by its key). TTL only bounds what
  lives outside the database (a chain file edited in place) and the memory held.
- Signed-in users: the user row for a session, re-read at most every USER_EVERY seconds, so a deactivated or
  re-roled account takes effect within that time without a database query on every request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from chainatlas import config
from chainatlas.store import data_version

TTL = 60.0
USER_EVERY = 5.0


class ApiCache:
    def __init__(self, sessions: sessionmaker[Session], size: int = 512) -> None:
        self._sessions = sessions
        self._items: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size
        self.inflight: dict[tuple, Any] = {}  # key → asyncio.Future of a computation under way (event-loop only)

    def version(self) -> int:
        with self._sessions() as s:
            return data_version.current(s)

    def key(self, path: str, query: str, scope: str = "") -> tuple:
        return (path, query, scope, self.version(), config.today())

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] < time.monotonic():
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: tuple, body: bytes) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + TTL, body)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """After a write through this app: forget every answer (keyed by the old version anyway; this frees
        their memory at once)."""
        with self._lock:
            self._items.clear()


class UserCache:
    def __init__(self, load: Callable[[int], Any]) -> None:
        self._load = load
        self._items: dict[int, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def cached(self, user_id: int) -> tuple[bool, Any]:
        with self._lock:
            hit = self._items.get(user_id)
        if hit is not None and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def load(self, user_id: int) -> Any:
        user = self._load(user_id)
        with self._lock:
            self._items[user_id] = (time.monotonic() + USER_EVERY, user)
        return user

    def forget(self, user_id: int) -> None:
        with self._lock:
            self._items.pop(user_id, None)
