"""Chains and zones as the database knows them: a chain file synced into its tables (`chains`), a zone loaded,
found, and asked whether an address is in it (`zones`)."""

from chainatlas.services.catalog.chains import node_label, node_ref, sync_chain
from chainatlas.services.catalog.reference import load_reference
from chainatlas.services.catalog.zones import ZoneNotFound, load_zone, resolve_zone

__all__ = [
    "ZoneNotFound", "load_reference", "load_zone", "node_label", "node_ref", "resolve_zone", "sync_chain",
]
