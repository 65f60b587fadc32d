"""What every page and API answer shares: JSON-ready values, the zone and chain in force and the cached diagnosis
of a zone. Each resource's own view (the dict its page renders and its /api/…
route returns as is, so the two can never disagree) sits beside its routes in web/routers/<resource>.py; the
numbers and the queries come from the services.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any

from fastapi import HTTPException
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.chain import Chain, ChainFileError, load_chain
from chainatlas.services import analysis as diagnosis
from chainatlas.services.catalog import ZoneNotFound, resolve_zone, shown_zone
from chainatlas.web import choice
from chainatlas.store import data_version
from chainatlas.store.models import Zone



def jsonable(value: Any) -> Any:
    """Dataclasses, dates and nested containers to JSON types (FastAPI would do it too; templates need it first)."""
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


# ---------------------------------------------------------------- zone and chain in force


def zone_and_chain(session: Session, zone_id: str | None = None, chain_id: str | None = None) -> tuple[Zone, Chain]:
    """The zone and chain asked for, else the user's choice (web/choice.py), else the defaults (`shown_zone`, the
    chain from settings); an unknown one is a 404 that names the ones there are, never a 500."""
    chosen_zone, chosen_chain = choice.current()
    try:
        zone = resolve_zone(session, shown_zone(session, zone_id or chosen_zone))
    except ZoneNotFound as exc:
        raise HTTPException(404, f"{exc}。也可在“数据导入”页导入企业名单。") from None
    try:
        chain = load_chain(chain_id or chosen_chain or config.default_chain())
    except ChainFileError as exc:
        raise HTTPException(404, exc.problems[0][1]) from None
    return zone, chain


class _DiagnosisCache:
    """Diagnosis of a zone is a whole-chain computation; pages and the big screen ask for it often."""

    def __init__(self, size: int = 16) -> None:
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def get(self, session: Session, zone_id: str, chain_id: str) -> Any:
        bind = session.get_bind()
        key = (str(bind.url), zone_id, chain_id, data_version.cache_key(session))
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        result = diagnosis.diagnose(session, zone_id, chain_id)
        with self._lock:
            self._items[key] = result
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return result


DIAGNOSES = _DiagnosisCache()


def diagnose(session: Session, zone: Zone, chain: Chain) -> Any:
    return DIAGNOSES.get(session, zone.id, chain.id)
