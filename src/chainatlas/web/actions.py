"""The writes the web app offers, each a thin call into the service that owns it (which audits it).

Service errors are turned into ActionError with the service's Chinese message, so pages show it as is
and the API returns it as 422 detail.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.chain import Chain
from chainatlas.domain.stages import StageError
from chainatlas.services.accounts import auth
from chainatlas.services.pipeline import projects as pipeline
from chainatlas.services.placement import placements as placement
from chainatlas.services.targets import ranking as targets
from chainatlas.services.accounts.auth import UserInfo
from chainatlas.store.models import Enterprise, Project, User, Zone


class ActionError(ValueError):
    """A refused write; the message is Chinese and says what to do."""


def _parse_day(text: str) -> date:
    if not text:
        return config.today()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ActionError(f"日期“{text}”无法识别，请按 年-月-日 填写，例如 2024-05-20。") from None


WEB_ACTIONS = {"add": "place", "remove": "reject", "off_chain": "off_chain", "clear": "clear"}


def correct_placement(
    session: Session, chain: Chain, enterprise_id: int, action: str, node_id: str | None, note: str, by_user: str
) -> str:
    """add: on this node; remove: not on this node; off_chain: not on this chain; clear: withdraw manual decisions."""
    ent = session.get(Enterprise, enterprise_id)
    if ent is None:
        raise ActionError(f"找不到编号为 {enterprise_id} 的企业。")
    if action not in WEB_ACTIONS:
        raise ActionError(f"未知操作“{action}”：可选 add（归入节点）、remove（不属于该节点）、off_chain（不在本链）、clear（撤销人工判断）。")
    if action in ("add", "remove") and (not node_id or node_id not in chain.nodes):
        raise ActionError(f"请选择产业链“{chain.name_zh}”中的一个节点（收到：“{node_id or '空'}”）。")
    try:
        placement.correct_placement(session, enterprise_id, chain.id, action=WEB_ACTIONS[action],
                                    node_id=node_id if action != "off_chain" else None, by_user=by_user, note=note)
    except ValueError as exc:
        raise ActionError(str(exc)) from None
    node_name = chain.nodes[node_id].name_zh if node_id in chain.nodes else ""
    return {
        "add": f"已将“{ent.name}”归入“{node_name}”（人工确认）。",
        "remove": f"已确认“{ent.name}”不属于“{node_name}”。",
        "off_chain": f"已确认“{ent.name}”不在“{chain.name_zh}”产业链上。",
        "clear": f"已撤销对“{ent.name}”的人工归链判断，恢复按规则归链。",
    }[action]


def target_to_project(session: Session, zone: Zone, enterprise_id: int, node_id: str, by_user: str) -> Project:
    if session.get(Enterprise, enterprise_id) is None:
        raise ActionError(f"找不到编号为 {enterprise_id} 的企业。")
    try:
        return targets.target_to_project(session, zone.id, enterprise_id, node_id, by_user)
    except ValueError as exc:
        raise ActionError(str(exc)) from None


class WeightsError(ActionError):
    """The weights form had bad boxes; `fields` maps each component to its Chinese message (shown beside it)."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("；".join(fields.values()))
        self.fields = fields


def parse_weights(values: Mapping[str, Any]) -> dict[str, float]:
    """One box per component of the target score; every bad box is reported at once, by its Chinese name."""
    if set(values) - set(targets.COMPONENTS):
        try:
            targets.validate_weights(dict(values))  # the service names the unknown keys and lists the known ones
        except targets.TargetError as exc:
            raise ActionError(str(exc)) from None
    defaults = targets.default_weights()
    out: dict[str, float] = {}
    errors: dict[str, str] = {}
    for key in targets.COMPONENTS:
        raw = values.get(key)
        text = "" if raw is None else str(raw).strip()
        if not text:
            errors[key] = (f"权重“{targets.COMPONENT_LABELS[key]}”未填写：请填一个不小于 0 的数"
                           f"（默认 {defaults[key]:g}）。")
            continue
        try:
            out[key] = targets.validate_weights({key: text})[key]  # the service's own message names the field
        except targets.TargetError as exc:
            errors[key] = str(exc)
    if errors:
        raise WeightsError(errors)
    return out


def save_target_weights(session: Session, values: Mapping[str, Any], by_user: str) -> str:
    weights = parse_weights(values)
    try:
        targets.save_weights(session, by_user, weights, by_user=by_user)
    except targets.TargetError as exc:  # all zero
        raise ActionError(str(exc)) from None
    return "已保存为我的权重，下表已按新权重重新排序（只影响您本人看到的排名）。"


def reset_target_weights(session: Session, by_user: str) -> str:
    targets.reset_weights(session, by_user, by_user=by_user)
    return "已恢复默认权重，下表已按默认权重重新排序。"


def change_stage(session: Session, project_id: int, to_stage: str, on: str, reason: str, user: UserInfo) -> Project:
    if session.get(Project, project_id) is None:
        raise ActionError(f"找不到编号为 {project_id} 的项目。")
    try:
        return pipeline.change_stage(
            session, project_id, to_stage, on=_parse_day(on), by_user=user.username, reason=reason,
            as_admin=user.role == "admin",
        )
    except (StageError, pipeline.ProjectError) as exc:
        raise ActionError(str(exc)) from None


# ---------------------------------------------------------------- 用户管理 (admins only; the routes check the role)


def confirm_password(password: str, again: str) -> None:
    """The page asks twice so a typo does not lock a colleague out; the API sends the password once."""
    if password != again:
        raise ActionError("两次输入的密码不一致，请重新输入。")


@contextmanager
def _auth_refusal() -> Iterator[None]:
    """auth's refusals (weak password, last admin, …) carry their Chinese message to the page."""
    try:
        yield
    except auth.AuthError as exc:
        raise ActionError(str(exc)) from None


def _username(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    if user is None:
        raise ActionError(f"找不到编号为 {user_id} 的用户。")
    return user.username


def add_user(session: Session, username: str, display_name: str, role: str, password: str, by_user: str) -> UserInfo:
    with _auth_refusal():
        return auth.create_user(session, username, password, role, display_name=display_name.strip(),
                                by_user=by_user)


def reset_password(session: Session, user_id: int, password: str, by_user: str) -> str:
    username = _username(session, user_id)
    with _auth_refusal():
        auth.set_password(session, username, password, by_user=by_user)
    return f"已重置用户“{username}”的密码（如曾被锁定，已同时解除）。请把新密码当面或电话告知本人。"


def change_role(session: Session, user_id: int, role: str, by_user: str) -> str:
    with _auth_refusal():
        user = auth.set_role(session, _username(session, user_id), role, by_user=by_user)
    return f"用户“{user.username}”的角色已改为{user.role_zh}。"


def set_active(session: Session, user_id: int, active: bool, by_user: str) -> str:
    with _auth_refusal():
        user = auth.set_active(session, _username(session, user_id), active, by_user=by_user)
    return f"已{'启用' if active else '停用'}用户“{user.username}”。"
