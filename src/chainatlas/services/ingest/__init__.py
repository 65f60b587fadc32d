"""Getting the user's lists into the database: the import of enterprises and relations (`imports`, with the bulk
writes of `store/bulk.py`) and the merge-review queue it leaves for an analyst (`review`)."""

from chainatlas.services.ingest.held import HeldRowError, fix_held_row
from chainatlas.services.ingest.reference import load_reference
from chainatlas.services.ingest.imports import (
    ImportProblem,
    held_problems,
    import_enterprises,
    import_relations,
    preview,
    write_error_report,
)
from chainatlas.services.ingest.file_linkage import link_files
from chainatlas.services.ingest.products import import_products
from chainatlas.services.ingest.review import (
    EVIDENCE,
    ReviewError,
    ReviewGroup,
    accept,
    count_pending,
    decide_many,
    list_candidates,
    reject,
    review_groups,
    split,
)
from chainatlas.services.ingest.source import FIELDS_OF

__all__ = [
    "EVIDENCE", "FIELDS_OF", "HeldRowError", "ImportProblem", "ReviewError", "ReviewGroup", "accept",
    "count_pending", "decide_many", "fix_held_row", "held_problems", "import_enterprises", "import_products",
    "import_relations", "link_files", "list_candidates", "load_reference",
    "preview", "reject", "review_groups", "split", "write_error_report",
]
