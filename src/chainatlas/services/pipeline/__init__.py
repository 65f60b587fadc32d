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
from chainatlas.services.pipeline.project_form import (
    FORM_FIELDS,
    FormField,
    ProjectFormError,
    form_fields,
    parks,
    save_project_form,
)
from chainatlas.services.pipeline.projects import (
    ACTIVITY_KINDS,
    ALL_STAGES,
    PROJECT_TYPES,
    PURPOSES,
    SIGNED_OR_LATER,
    ProjectError,
    ProjectFilter,
    StageConflict,
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
    projects_by_node,
    set_next_action,
    update_project,
)

__all__ = [
    "ACTIVITY_KINDS", "ACTIVITY_SHEET", "ALL_STAGES", "FORM_FIELDS", "HISTORY_SHEET", "MAIN_SHEET", "PROJECT_TYPES",
    "PURPOSES", "SIGNED_OR_LATER", "SUMMARY_SHEET", "FormField", "LedgerImportError", "LedgerImportResult",
    "ProjectError", "ProjectFilter", "ProjectFormError", "StageConflict", "StageError", "board", "change_stage",
    "create_project", "default_year", "export_ledger", "form_fields", "format_measure", "get_project",
    "import_ledger", "investors_in_pipeline", "kpi_report", "last_progress_on", "list_projects", "log_activity",
    "months_elapsed", "parks", "project_dict", "project_history", "projects_by_node", "save_project_form",
    "set_next_action", "target_years", "update_project",
]
