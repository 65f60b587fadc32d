"""企业搜索: by name, former / English / short name or USCC (services/enterprises, also `chainatlas search`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from chainatlas.services import enterprises
from chainatlas.services.accounts import UserInfo
from chainatlas.web.responses import cached_json, render
from chainatlas.web.security import current_user, get_session

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


@router.get("/search")
def search_page(request: Request, q: str = "", user: UserInfo = Depends(current_user),
                session: Session = Depends(get_session)):
    data = _search(session, q)
    if request.headers.get("hx-request"):
        return render(request, "search/_search_results.html", user, data=data)
    return render(request, "search/search.html", user, data=data, q=q, is_demo=data["is_demo"], title="企业搜索")


@api.get("/search", summary="企业搜索 (name, former/English name, USCC)")
async def search_json(request: Request, q: str = "", user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: _search(s, q))


def _search(session: Session, q: str) -> dict:
    try:
        return enterprises.search(session, q)
    except enterprises.SearchError as exc:  # too long a query: refused before it reaches the database
        raise HTTPException(422, str(exc)) from None
