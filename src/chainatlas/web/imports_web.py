"""Uploads and import jobs for the 数据导入 page: save the file, preview its mapping, run the import in a
background thread (progress shown while it runs); the import places the firms it touched.

The import itself is services/ingest/imports.py (one transaction, audited), run like the preview in a worker
process with a memory limit (web/worker.py); this module keeps the upload on disk and the job's progress in
memory (a restart forgets running jobs; the import either committed or not).
An upload is kept from the preview until its import has committed or failed, then deleted; folders left
behind (previewed but never imported) are swept at start-up once older than CHAINATLAS_UPLOAD_TTL_HOURS.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import HTTPException, UploadFile

from chainatlas import config
from chainatlas.ingest.reader import SUPPORTED
from chainatlas.services import ingest as imports
from chainatlas.store import db
from chainatlas.web import worker
from chainatlas.web.body_limit import MAX_UPLOAD_BYTES, too_large

KINDS = {"enterprises": "企业名单", "products": "主营产品（每行一条产品线）", "relations": "供应关系"}
UNIT_CHOICES = ("元", "千元", "万元", "百万元", "亿元")


TOKEN = re.compile(r"[0-9a-f]{16}")  # one folder per upload, named by a random token


def upload_dir() -> Path:
    path = config.home() / "uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def discard_upload(path: Path) -> None:
    """Delete an upload's folder: enterprise lists are confidential, so nothing stays once its import is over."""
    folder = path.parent
    if folder.parent.resolve() == upload_dir().resolve() and TOKEN.fullmatch(folder.name):
        shutil.rmtree(folder, ignore_errors=True)


def sweep_uploads(max_age_hours: float | None = None) -> int:
    """At start-up: delete upload folders older than CHAINATLAS_UPLOAD_TTL_HOURS (uploads previewed but never
    imported, or left by a process that stopped mid-import). Returns how many were deleted."""
    hours = config.upload_ttl_hours() if max_age_hours is None else max_age_hours
    cutoff = time.time() - hours * 3600
    swept = 0
    for folder in upload_dir().iterdir():
        if folder.is_dir() and TOKEN.fullmatch(folder.name) and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            swept += 1
    return swept


def _safe_name(name: str) -> str:
    # Keep the user's file name (reports cite it) but never a path.
    base = re.split(r"[\\/]", name or "")[-1].strip().lstrip(".")
    base = re.sub(r"[\x00-\x1f<>:\"|?*]", "_", base)
    return base[:150] or "upload"


async def save_upload(upload: UploadFile) -> tuple[str, Path]:
    name = _safe_name(upload.filename or "")
    if not name.lower().endswith(SUPPORTED):
        raise HTTPException(422, f"文件“{name}”的类型不支持。请上传 {'、'.join(SUPPORTED)} 文件。")
    token = secrets.token_hex(8)
    folder = upload_dir() / token
    folder.mkdir(mode=0o700)
    path = folder / name
    size = 0
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:  # (the body was counted as it came: this is the file alone)
                out.close()
                path.unlink()
                folder.rmdir()
                raise HTTPException(413, too_large(MAX_UPLOAD_BYTES))
            out.write(chunk)
    if size == 0:
        path.unlink()
        folder.rmdir()
        raise HTTPException(422, f"文件“{name}”是空的。")
    return token, path


def uploaded(token: str) -> Path:
    if not TOKEN.fullmatch(token):
        raise HTTPException(404, "找不到该上传文件。")
    folder = upload_dir() / token
    files = list(folder.iterdir()) if folder.is_dir() else []
    if not files:
        raise HTTPException(404, "找不到该上传文件（可能已被清理），请重新上传。")
    return files[0]


def preview(path: Path, kind: str, mapping: dict | None = None) -> dict:
    """The mapping preview, read in a worker process (web/worker.py): a file that breaks the reader ends that
    process, and the page shows the Chinese error."""
    try:
        return worker.run(preview_in_worker, path, kind, mapping)
    except (ValueError, worker.WorkerFailed) as exc:  # ReadError, MappingError, ImportProblem: Chinese messages
        return {"error": str(exc), "file_name": path.name, "kind": kind}


def preview_in_worker(path: Path, kind: str, mapping: dict | None, progress: Callable[..., None]) -> dict:
    p = imports.preview(path, kind=kind, mapping=mapping)
    fields = imports.FIELDS_OF[kind]
    money = {u.header: u for u in p.units}
    return {
        "file_name": path.name, "kind": kind, "kind_zh": KINDS[kind], "error": None,
        "header_row": p.table.header_row, "rows": len(p.table), "encoding": p.table.encoding, "sheet": p.table.sheet,
        "columns": [{"index": c.index, "header": c.header, "field": c.field, "how": c.how,
                     "unit": c.multiplier, "currency": c.currency,
                     "money": money[c.header].shown if c.header in money else "",
                     "suspect": money[c.header].suspect if c.header in money else False,
                     "warning": (money[c.header].fact() + "请在上面选择单位（选“元”即确认按元）")
                     if c.header in money and money[c.header].suspect else ""}
                    for c in p.mapping.columns],
        "unit_choices": UNIT_CHOICES,
        "fields": [{"id": f.id, "label_zh": f.label_zh} for f in fields],
        "sample": p.sample, "warnings": p.mapping.warnings,
    }


def import_in_worker(url: str, path: Path, kind: str, mapping: dict | None, chain_id: str, by_user: str,
                     progress: Callable[..., None]) -> dict:
    """The import, which places the firms it touched (as on the command line), in one transaction, in the worker
    process. Each firm's zone is judged against every zone, as `chainatlas import` does without --zone: the zone the
    user happens to be looking at is not where the list's firms are (a 深圳 list imported while 上海 was shown left
    its firms in no zone at all, until a zone was next saved)."""
    classified = None
    with db.session_scope(url) as session:
        if kind == "enterprises":
            summary = imports.import_enterprises(session, path, mapping=mapping, by_user=by_user,
                                                 progress=progress)
        elif kind == "products":
            summary = imports.import_products(session, path, mapping=mapping, by_user=by_user, progress=progress)
        else:
            summary = imports.import_relations(session, path, mapping=mapping, by_user=by_user, progress=progress)
        if not summary.already_imported:
            classified = {"chain_id": chain_id, "placed": summary.placed.get(chain_id, 0)}
    return {"summary": {k: v for k, v in vars(summary).items() if k != "problems"},
            "problems": [p.as_dict() for p in summary.problems], "classified": classified}


def units_missing(columns: list[dict], form: dict[str, Any]) -> str:
    """The web wording of a money column that needs a unit the form did not choose ("" when none): checked before
    a job starts, so the user is sent back to the preview instead of reading a failed job."""
    missing = [c["header"] for c in columns if c["suspect"] and not form.get(f"unit_{c['index']}")]
    return f"请先为“{'、'.join(missing)}”列选择单位（很可能是万元），再开始导入。" if missing else ""


def mapping_from_form(columns: list[dict], form: dict[str, Any]) -> dict:
    """Form fields map_<index> = field id, '' (ignore) or '@auto', and unit_<index> = the unit chosen for a money
    column that states none; only the columns the user changed are overrides."""
    override: dict[str, Any] = {}
    for c in columns:
        chosen = form.get(f"map_{c['index']}")
        unit = form.get(f"unit_{c['index']}")
        field_id = c["field"] if chosen is None or chosen == "@auto" else chosen or None
        if unit and field_id:
            override[c["header"]] = {"field": field_id, "unit": unit}
        elif chosen is not None and chosen != "@auto" and chosen != (c["field"] or ""):
            override[c["header"]] = chosen or None
    return override


@dataclass
class Job:
    id: str
    kind: str
    file_name: str
    by_user: str
    stage: str = "排队"
    done: int = 0
    total: int = 0
    status: str = "running"  # running / done / failed
    summary: dict | None = None
    problems: list[dict] = field(default_factory=list)
    classified: dict | None = None
    error: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "kind_zh": KINDS.get(self.kind, self.kind),
                "file_name": self.file_name, "by_user": self.by_user, "stage": self.stage, "done": self.done,
                "total": self.total, "status": self.status, "summary": self.summary, "problems": self.problems[:500],
                "problem_count": len(self.problems), "classified": self.classified, "error": self.error,
                "seconds": round((self.finished or time.time()) - self.started, 1),
                "percent": self.percent}

    @property
    def percent(self) -> int:
        if self.status != "running":
            return 100
        return int(100 * self.done / self.total) if self.total else 0


class Jobs:
    def __init__(self, on_change: Callable[[], None] = lambda: None) -> None:
        self.on_change = on_change  # called after an import committed (clears cached API answers)
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise HTTPException(404, "找不到该导入任务（服务重启后任务记录会清空；导入结果见“导入批次”）。")
        return job

    def recent(self, n: int = 10) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.started, reverse=True)[:n]

    def start(self, database_url: str, path: Path, kind: str, mapping: dict | None, chain_id: str,
              by_user: str) -> Job:
        job = Job(secrets.token_hex(6), kind, path.name, by_user)
        with self._lock:
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, database_url, path, mapping, chain_id, self.on_change),
                         daemon=True, name=f"import-{job.id}").start()
        return job

    @staticmethod
    def _run(job: Job, url: str, path: Path, mapping: dict | None, chain_id: str,
             on_change: Callable[[], None]) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            job.stage, job.done, job.total = stage, done, total

        try:
            done = worker.run(import_in_worker, url, path, job.kind, mapping, chain_id, job.by_user,
                              progress=progress)
            job.summary, job.problems, job.classified = done["summary"], done["problems"], done["classified"]
            on_change()
            outcome = ("done", "")
        except Exception as exc:  # shown on the page; the transaction was rolled back
            outcome = ("failed", f"导入失败，数据库未作任何修改：{exc}")
        finally:
            discard_upload(path)  # committed or failed: the file is no longer needed (a retry uploads it again)
            job.finished = time.time()
        job.status, job.error = outcome  # last: whoever sees the job finished also sees its upload gone
