"""Chains and zones as the database knows them: a chain file synced into its tables (`chains`), a zone loaded,
found, and asked whether an address is in it (`zones`)."""

from chainatlas.services.catalog.chains import sync_chain
from chainatlas.services.catalog.zones import ZoneNotFound, load_zone, resolve_zone

__all__ = ["ZoneNotFound", "load_zone", "resolve_zone", "sync_chain"]
