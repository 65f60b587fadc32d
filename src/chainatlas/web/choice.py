"""The zone and chain the pages of one request show: the signed-in user's choice (remembered on the user, set by
`security.current_user`), else the defaults from settings. A context variable, so the many views that ask for
"the zone and chain in force" need no extra argument, and API answers are cached per choice."""

from __future__ import annotations

from contextvars import ContextVar

_CHOICE: ContextVar[tuple[str, str]] = ContextVar("chainatlas_view", default=("", ""))


def set_choice(zone_id: str, chain_id: str) -> None:
    _CHOICE.set((zone_id or "", chain_id or ""))


def current() -> tuple[str, str]:
    """(zone id, chain id) chosen for this request; "" where the user chose none."""
    return _CHOICE.get()
