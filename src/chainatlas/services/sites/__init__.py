"""Sites (载体): the zone's land, factories and offices — the ledger, matching to projects and targets, use of space."""

from chainatlas.services.sites.ledger import (
    SITE_FIELDS,
    SiteConflict,
    SiteError,
    SiteImportResult,
    SiteNotFound,
    get_site,
    hold_site,
    import_sites,
    list_sites,
    release_site,
    set_status,
    sites_of_project,
    update_site,
)
from chainatlas.services.sites.matching import MatchError, SiteMatch, match_sites, need_for_project, need_from_args
from chainatlas.services.sites.overview import available_panel, sites_overview
from chainatlas.services.sites.space import (
    LandBalance,
    PerMu,
    available_area,
    idle_sites,
    land_balance,
    per_mu_by_firm,
    per_mu_by_park,
)

__all__ = [
    "SITE_FIELDS", "LandBalance", "MatchError", "PerMu", "SiteConflict", "SiteError", "SiteImportResult",
    "SiteMatch", "SiteNotFound", "available_area", "available_panel", "get_site", "hold_site", "idle_sites",
    "import_sites", "land_balance", "list_sites", "match_sites", "need_for_project", "need_from_args",
    "per_mu_by_firm", "per_mu_by_park", "release_site", "set_status", "sites_of_project", "sites_overview",
    "update_site",
]
