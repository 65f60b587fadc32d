"""合并审核: the doubtful pairs of entity resolution, grouped by their evidence, decided one by one or a group at
once (the officer unticks the pairs of a group that are exceptions)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from chainatlas.services.accounts import UserInfo
from chainatlas.services import ingest as review
from chainatlas.web.responses import flash, render
from chainatlas.web.security import commit, current_user, get_session, writer
from chainatlas.web.views import jsonable

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["review"])

PAGE_LIMIT = 500  # pairs shown at once; the queue is decided a page at a time


def _groups(session: Session) -> list[review.ReviewGroup]:
    return review.review_groups(review.list_candidates(session, "pending", limit=PAGE_LIMIT))


@router.get("/review")
def review_page(request: Request, user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    return render(request, "review/review.html", user, "imports", groups=_groups(session),
                  pending=review.count_pending(session), evidence=review.EVIDENCE, limit=PAGE_LIMIT, title="合并审核")


@router.post("/review/batch")
def decide_batch(request: Request, decision: str = Form(...), ids: list[int] = Form(default=[]),
                 user: UserInfo = Depends(writer), session: Session = Depends(get_session)):
    if not ids:
        flash(request, "error", "没有勾选任何企业对：请勾选要一并处理的企业对后再提交。")
        return RedirectResponse("/review", status_code=303)
    try:
        result = review.decide_many(session, ids, decision, user.username)
    except review.ReviewError as exc:
        session.rollback()
        flash(request, "error", str(exc))
        return RedirectResponse("/review", status_code=303)
    commit(request, session)
    verb = "合并" if decision == "accept" else "确认为不同企业"
    flash(request, "success", f"已{verb} {len(result.done)} 对。")
    if result.refused:
        flash(request, "error", f"{len(result.refused)} 对未处理：" + "；".join(result.refused[:5]))
    return RedirectResponse("/review", status_code=303)


class BatchRequest(BaseModel):
    ids: list[int]
    decision: str  # accept / reject


@api.get("/review", summary="待审核企业对，按依据分组 (pending pairs grouped by their evidence)")
def review_json(user: UserInfo = Depends(current_user), session: Session = Depends(get_session)) -> list[dict]:
    return [{"key": g.key, "evidence": g.evidence, "ids": g.ids, "items": [jsonable(i) for i in g.items]}
            for g in _groups(session)]


@api.post("/review/batch", summary="一次合并或拒绝多对 (accept or reject several pairs at once)")
def decide_batch_json(body: BatchRequest, request: Request, user: UserInfo = Depends(writer),
                      session: Session = Depends(get_session)) -> dict:
    try:
        result = review.decide_many(session, body.ids, body.decision, user.username)
    except review.ReviewError as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    commit(request, session)
    return {"done": result.done, "refused": result.refused}
