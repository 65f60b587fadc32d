"""The project pipeline: projects along their stages and their visits (`projects`), the year's targets and
progress (`kpi`), and the ledger workbook exported and imported back (`ledger`)."""

from chainatlas.services.pipeline.kpi import default_year, format_measure, kpi_report, months_elapsed, target_years
from chainatlas.services.pipeline.ledger import (
    ACTIVITY_SHEET,
    HISTORY_SHEET,
    MAIN_SHEET,
    SUMMARY_SHEET,
    LedgerImportError,
    LedgerImportResult,
    export_ledger,
    import_ledger,
)
from chainatlas.services.pipeline.projects import (
    ACTIVITY_KINDS,
    ALL_STAGES,
    ProjectError,
    ProjectFilter,
    StageError,
    board,
    change_stage,
    create_project,
    get_project,
    investors_in_pipeline,
    last_progress_on,
    list_projects,
    log_activity,
    project_dict,
    project_history,
    set_next_action,
    update_project,
)

__all__ = [
    "ACTIVITY_KINDS", "ACTIVITY_SHEET", "ALL_STAGES", "HISTORY_SHEET", "MAIN_SHEET", "SUMMARY_SHEET",
    "LedgerImportError", "LedgerImportResult", "ProjectError", "ProjectFilter", "StageError", "board",
    "change_stage", "create_project", "default_year", "export_ledger", "format_measure", "get_project",
    "import_ledger", "investors_in_pipeline", "kpi_report", "last_progress_on", "list_projects", "log_activity",
    "months_elapsed", "project_dict", "project_history", "set_next_action", "target_years", "update_project",
]
