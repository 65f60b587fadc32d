"""Getting the user's lists into the database: the import of enterprises and relations (`imports`), the bulk
writes it uses (`bulk`) and the merge-review queue it leaves for an analyst (`review`)."""

from chainatlas.services.ingest.bulk import indexes_deferred, insert_columns, insert_rows
from chainatlas.services.ingest.imports import (
    ImportProblem,
    held_problems,
    import_enterprises,
    import_relations,
    preview,
    write_error_report,
)
from chainatlas.services.ingest.review import ReviewError, accept, count_pending, list_candidates, reject, split

__all__ = [
    "ImportProblem", "ReviewError", "accept", "count_pending", "held_problems", "import_enterprises",
    "import_relations", "indexes_deferred", "insert_columns", "insert_rows", "list_candidates", "preview", "reject",
    "split", "write_error_report",
]
