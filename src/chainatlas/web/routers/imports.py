"""数据导入: upload → mapping preview → run with progress → validation report; the merge-review queue."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.services import ingest as held_service
from chainatlas.services import ingest as review
from chainatlas.services import accounts
from chainatlas.services.accounts import UserInfo
from chainatlas.store.models import HeldRow, ImportBatch
from chainatlas.web import imports_web
from chainatlas.web.responses import flash, render
from chainatlas.web.security import commit, current_user, get_session, writer
from chainatlas.web.views import jsonable, zone_and_chain

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["imports"])


def _jobs(request: Request) -> imports_web.Jobs:
    return request.app.state.import_jobs


def overview(session: Session, jobs: imports_web.Jobs) -> dict:
    batches = session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(20)).all()
    jobs_now = [j.as_dict() for j in jobs.recent()]
    people = accounts.display_names(session, [b.by_user for b in batches] + [j["by_user"] for j in jobs_now])
    return {
        "batches": [{"id": b.id, "kind": b.kind, "kind_zh": imports_web.KINDS.get(b.kind, b.kind),
                     "file_name": b.file_name, "rows_total": b.rows_total, "rows_inserted": b.rows_inserted,
                     "rows_merged": b.rows_merged, "rows_held": b.rows_held,
                     "by_user": people.get(b.by_user, b.by_user), "at": b.at}
                    for b in batches],
        "review_pending": review.count_pending(session),
        "review": [jsonable(item) for item in review.list_candidates(session, "pending", limit=50)],
        "jobs": [dict(j, by_user=people.get(j["by_user"], j["by_user"])) for j in jobs_now],
    }


@router.get("/imports")
def imports_page(request: Request, user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    data = overview(session, _jobs(request))
    return render(request, "imports/imports.html", user, "imports", data=data, evidence=review.EVIDENCE,
                  title="数据导入")


@router.post("/imports/upload")
async def upload(request: Request, file: UploadFile = File(...), kind: str = Form("enterprises"),
                 user: UserInfo = Depends(writer)):
    if kind not in imports_web.KINDS:
        raise HTTPException(422, f"导入类型“{kind}”无效，可选：enterprises（企业名单）、relations（供应关系）。")
    token, _ = await imports_web.save_upload(file)
    return RedirectResponse(f"/imports/{token}/preview?kind={kind}", status_code=303)


@router.get("/imports/{token}/preview")
def preview_page(token: str, request: Request, kind: str = "enterprises", user: UserInfo = Depends(writer)):
    if kind not in imports_web.KINDS:
        raise HTTPException(422, f"导入类型“{kind}”无效。")
    data = imports_web.preview(imports_web.uploaded(token), kind)
    return render(request, "imports/import_preview.html", user, "imports", data=data, token=token, title="导入预览")


@router.post("/imports/{token}/run")
async def run_import(token: str, request: Request, user: UserInfo = Depends(writer),
                     session: Session = Depends(get_session)):
    form = dict(await request.form())
    kind = str(form.get("kind", "enterprises"))
    if kind not in imports_web.KINDS:
        raise HTTPException(422, f"导入类型“{kind}”无效。")
    path = imports_web.uploaded(token)
    data = imports_web.preview(path, kind)
    problem = data["error"] or imports_web.units_missing(data["columns"], form)
    if problem:
        flash(request, "error", problem)
        return RedirectResponse(f"/imports/{token}/preview?kind={kind}", status_code=303)
    _, chain = zone_and_chain(session)
    mapping = imports_web.mapping_from_form(data["columns"], form) or None
    job = _jobs(request).start(request.app.state.database_url, path, kind, mapping, chain.id, user.username)
    return RedirectResponse(f"/imports/jobs/{job.id}", status_code=303)


@router.get("/imports/jobs/{job_id}")
def job_page(job_id: str, request: Request, user: UserInfo = Depends(current_user),
             session: Session = Depends(get_session)):
    job = _jobs(request).get(job_id).as_dict()
    if request.headers.get("hx-request"):
        return render(request, "imports/_import_job.html", user, job=job)
    by = accounts.display_names(session, [job["by_user"]]).get(job["by_user"], job["by_user"])
    return render(request, "imports/import_job.html", user, "imports", job=job, by=by, title="导入进度")


@router.get("/imports/batches/{batch_id}")
def batch_page(batch_id: int, request: Request, user: UserInfo = Depends(current_user),
               session: Session = Depends(get_session)):
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise HTTPException(404, f"找不到导入批次 #{batch_id}。")
    held = session.scalars(select(HeldRow).where(HeldRow.batch_id == batch_id).order_by(HeldRow.row_number)
                           .limit(500)).all()
    rows = [{"id": h.id, "row_number": h.row_number, "problems": h.problems,
             "bad": {p["column"] for p in h.problems}, "cells": list(h.values.items())} for h in held]
    return render(request, "imports/import_batch.html", user, "imports", batch=batch, held=rows,
                  kind_zh=imports_web.KINDS.get(batch.kind, batch.kind),
                  by=accounts.display_names(session, [batch.by_user]).get(batch.by_user, batch.by_user),
                  fixable=batch.kind in ("enterprises", "relations"), title=f"导入批次 #{batch_id}")


@router.post("/imports/held/{held_id}")
async def fix_held_row(held_id: int, request: Request, user: UserInfo = Depends(writer),
                       session: Session = Depends(get_session)):
    """A held row corrected on the batch page is imported as its file was; still wrong, nothing is written."""
    held_row = session.get(HeldRow, held_id)
    if held_row is None:
        raise HTTPException(404, f"找不到暂存行 #{held_id}（可能已修正导入）。")
    batch_id, row_number = held_row.batch_id, held_row.row_number
    form = await request.form()
    headers = list(held_row.values)
    values = {h: str(form.get(f"cell_{i}", "")) for i, h in enumerate(headers)}
    try:
        result = held_service.fix_held_row(session, held_id, values, by_user=user.username)
    except held_service.HeldRowError as exc:
        session.rollback()
        flash(request, "error", str(exc))
        return RedirectResponse(f"/imports/batches/{batch_id}", status_code=303)
    if not result.landed:
        session.rollback()
        flash(request, "error", f"第{row_number}行仍有问题，未导入：" + "；".join(
            f"{p.column}“{p.value}”{p.problem}（{p.action}）" for p in result.problems))
        return RedirectResponse(f"/imports/batches/{batch_id}", status_code=303)
    commit(request, session)
    flash(request, "success", f"第{row_number}行已修正并导入（批次 #{result.batch_id}）。")
    return RedirectResponse(f"/imports/batches/{batch_id}", status_code=303)


@router.post("/imports/review/{candidate_id}/{decision}")
def decide(candidate_id: int, decision: str, request: Request, user: UserInfo = Depends(writer),
           session: Session = Depends(get_session)):
    if decision not in ("accept", "reject"):
        raise HTTPException(404, "未知的审核操作。")
    try:
        getattr(review, decision)(session, candidate_id, user.username)
    except review.ReviewError as exc:
        session.rollback()
        flash(request, "error", str(exc))
    else:
        commit(request, session)
        flash(request, "success", f"#{candidate_id} 已{'合并' if decision == 'accept' else '确认为不同企业'}。")
    return RedirectResponse("/imports#review", status_code=303)


# ---------------------------------------------------------------- JSON


@api.get("/imports", summary="导入批次、任务与合并审核队列 (batches, jobs, review queue)")
def imports_json(request: Request, user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    return jsonable(overview(session, _jobs(request)))


@api.post("/imports", summary="上传并导入文件 (upload a file and start the import)")
async def import_json(request: Request, file: UploadFile = File(...), kind: str = Form("enterprises"),
                      mapping: str = Form("", description='可选：JSON {"表头": "字段"}'),
                      user: UserInfo = Depends(writer), session: Session = Depends(get_session)) -> dict:
    if kind not in imports_web.KINDS:
        raise HTTPException(422, f"导入类型“{kind}”无效，可选：enterprises、relations。")
    try:
        override = json.loads(mapping) if mapping else None
    except json.JSONDecodeError as exc:
        raise HTTPException(422, f"mapping 不是合法的 JSON：{exc}") from None
    _, chain = zone_and_chain(session)  # before saving: a refused request leaves no file behind
    _, path = await imports_web.save_upload(file)
    job = _jobs(request).start(request.app.state.database_url, path, kind, override, chain.id, user.username)
    return job.as_dict()


@api.get("/imports/jobs/{job_id}", summary="导入任务进度与校验报告 (job progress and report)")
def job_json(job_id: str, request: Request, user: UserInfo = Depends(current_user)) -> dict:
    return _jobs(request).get(job_id).as_dict()


@api.post("/review/{candidate_id}/{decision}", summary="合并审核：accept 合并 / reject 不是同一企业")
def decide_json(candidate_id: int, decision: str, request: Request, user: UserInfo = Depends(writer),
                session: Session = Depends(get_session)) -> Response:
    if decision not in ("accept", "reject"):
        raise HTTPException(404, "未知的审核操作。")
    try:
        c = getattr(review, decision)(session, candidate_id, user.username)
    except review.ReviewError as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    commit(request, session)
    return Response(json.dumps({"id": c.id, "status": c.status}), media_type="application/json")
