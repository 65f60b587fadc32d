"""Firms as users look them up: search, one firm in full (the enterprise page, `chainatlas search` / `show`)."""

from chainatlas.services.enterprises.detail import (
    enterprise_detail,
    evidence_groups,
    evidence_label,
    method_label,
    source_label,
)
from chainatlas.services.enterprises.lookup import (
    EnterpriseNotFound,
    SearchError,
    demo_ids,
    enterprises_by_id,
    find_enterprise,
    firm_brief,
    leader_firms,
    local_firm_count,
    search,
)
from chainatlas.services.enterprises.provenance import provenances

__all__ = [
    "EnterpriseNotFound", "SearchError", "demo_ids", "enterprise_detail", "enterprises_by_id", "evidence_groups",
    "evidence_label", "find_enterprise", "firm_brief", "leader_firms", "local_firm_count", "method_label", "provenances",
    "search", "source_label",
]
