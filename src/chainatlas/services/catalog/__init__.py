"""Chains and zones as the database knows them: a chain file synced into its tables (`chains`), a zone loaded,
found, and asked whether an address is in it (`zones`)."""

from chainatlas.services.catalog.chains import list_chains, node_label, node_ref, sync_chain
from chainatlas.services.catalog.places import firm_points
from chainatlas.services.catalog.regions import place_label
from chainatlas.services.catalog.view_choice import choose_view, shown_zone, view_options
from chainatlas.services.catalog.zones import (
    ZoneError,
    ZoneNotFound,
    list_zones,
    load_zone,
    read_zone_file,
    remove_zone,
    resolve_zone,
    save_zone,
    zone_dict,
    zone_firm_count,
    zone_from_divisions,
)

__all__ = [
    "ZoneError", "ZoneNotFound", "choose_view", "firm_points", "list_chains", "list_zones",
    "load_zone", "node_label", "node_ref", "place_label", "read_zone_file", "remove_zone", "resolve_zone",
    "save_zone", "shown_zone", "sync_chain", "view_options", "zone_dict", "zone_firm_count", "zone_from_divisions",
]
