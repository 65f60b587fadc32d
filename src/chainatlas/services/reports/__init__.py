"""What leaves the system on paper or in a spreadsheet: Excel exports (`excel`, laid out by `sheet`), the target
list workbook (`target_list`), the wall chart (`wallchart`), the monthly brief (`brief`), and the PDF printing they
share (`printing`)."""

from chainatlas.services.reports.brief import Month, brief_pdf, render_brief
from chainatlas.services.reports.excel import EXPORT_KINDS, EXPORT_TITLES, export, export_bytes
from chainatlas.services.reports.printing import FontMissing
from chainatlas.services.reports.target_list import export_targets_xlsx
from chainatlas.services.reports.wallchart import build_wall_spec, render_wallchart, wallchart_pdf

__all__ = [
    "EXPORT_KINDS", "EXPORT_TITLES", "FontMissing", "Month", "brief_pdf", "build_wall_spec", "export",
    "export_bytes", "export_targets_xlsx", "render_brief", "render_wallchart", "wallchart_pdf",
]
