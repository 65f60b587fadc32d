"""The import capability's entry points (the steps live in their own modules of this package):

- enterprises.py — an enterprise list, as a queue of named steps (read → map → validate → normalise → place zone
  → resolve → write → link → place → report), each a function taking and returning the import's table;
- relations.py — supplier → customer relations; products.py — long product files (firm × product × share);
- source.py (read, map, preview), normalise.py, zoning.py, resolve.py, write.py, link.py, place.py, report.py.
"""

from __future__ import annotations

from chainatlas.services.ingest.enterprises import import_enterprises
from chainatlas.services.ingest.link import linkage_table
from chainatlas.services.ingest.products import import_products
from chainatlas.services.ingest.relations import import_relations
from chainatlas.services.ingest.report import held_problems, write_error_report
from chainatlas.services.ingest.source import FIELDS_OF, ImportProblem, ImportSummary, Preview, file_sha256, preview

__all__ = ["FIELDS_OF", "ImportProblem", "ImportSummary", "Preview", "file_sha256", "held_problems", "import_enterprises",
           "import_products", "import_relations", "linkage_table", "preview", "write_error_report"]
