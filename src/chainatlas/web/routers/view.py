"""The zone and chain switcher in the top bar: which zone and chain every page shows, remembered per user."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.chain import ChainFileError
from chainatlas.services.accounts import UserInfo
from chainatlas.services.catalog import choose_view, shown_zone, view_options
from chainatlas.services.catalog import ZoneNotFound
from chainatlas.web import choice
from chainatlas.web.responses import back, flash, render
from chainatlas.web.security import commit, current_user, get_session

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["view"])


def _current(session: Session) -> dict:
    zone, chain = choice.current()
    return {"zone": shown_zone(session, zone), "chain": chain or config.default_chain()}


def _choose(request: Request, session: Session, user: UserInfo, zone: str, chain: str) -> tuple[str, str]:
    chosen = choose_view(session, user.username, zone, chain)
    commit(request, session)
    request.app.state.user_cache.forget(user.id)  # the next request reads the new choice
    return chosen


@router.get("/view/switcher")
def switcher(request: Request, user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    options = view_options(session)
    return render(request, "view/_switcher.html", user, options=options, current=_current(session))


@router.post("/view")
def switch_form(request: Request, zone: str = Form(""), chain: str = Form(""), user: UserInfo = Depends(current_user),
                session: Session = Depends(get_session)):
    try:
        _choose(request, session, user, zone, chain)
    except (ZoneNotFound, ChainFileError) as exc:
        session.rollback()
        flash(request, "error", exc.problems[0][1] if isinstance(exc, ChainFileError) else str(exc))
    return _back_to_view(request)


def _back_to_view(request: Request) -> RedirectResponse:
    """Back to the page the switch was made on, less what belonged to the chain or zone left behind: switched on
    /nodes/drive-motor to 光伏与新型储能, the officer got 404 “没有节点“drive-motor””. A node page goes to the chain
    map; ?node= and ?leader= are dropped (目标企业 and 链主企业 then show the new view's first)."""
    url = urlsplit(back(request, "/").headers["location"])
    path = "/" if url.path.startswith("/nodes/") else url.path
    query = urlencode([(k, v) for k, v in parse_qsl(url.query) if k not in ("node", "leader")])
    return RedirectResponse(path + (f"?{query}" if query else ""), status_code=303)


class ViewIn(BaseModel):
    zone: str = ""
    chain: str = ""


@api.get("/view", summary="当前开发区与产业链及可选项 (the zone and chain in force, and the choices)")
def view_json(user: UserInfo = Depends(current_user), session: Session = Depends(get_session)) -> dict:
    options = view_options(session)
    return _current(session) | {"zones": [{"id": i, "name": n} for i, n in options.zones],
                             "chains": [{"id": i, "name": n} for i, n in options.chains]}


@api.post("/view", summary="切换开发区与产业链（按用户记住）(switch zone and chain, remembered per user)")
def switch_json(body: ViewIn, request: Request, user: UserInfo = Depends(current_user),
                session: Session = Depends(get_session)) -> dict:
    try:
        zone, chain = _choose(request, session, user, body.zone, body.chain)
    except (ZoneNotFound, ChainFileError) as exc:
        session.rollback()
        raise HTTPException(404, exc.problems[0][1] if isinstance(exc, ChainFileError) else str(exc)) from None
    return {"zone": shown_zone(session, zone), "chain": chain or config.default_chain()}
