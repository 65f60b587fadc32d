"""The stage ladder of a 招商 project and the rules for moving along it.

线索 → 接洽 → 在谈 → 签约 → 注册 → 开工 → 投产, plus 搁置 (on hold) and 终止 (dropped, 退库).
The Chinese names are what the ledger stores and shows; the English ids exist for code and URLs.
Pure rules only: the pipeline service supplies the project's facts and records the change.
"""

from __future__ import annotations

from dataclasses import dataclass

LADDER: tuple[str, ...] = ("线索", "接洽", "在谈", "签约", "注册", "开工", "投产")
HOLD = "搁置"
DROP = "终止"
STAGES = LADDER  # the contract name: the ladder; 搁置 and 终止 are off-ladder states
ALL_STAGES: tuple[str, ...] = LADDER + (HOLD, DROP)

STAGE_IDS: dict[str, str] = {
    "lead": "线索",
    "contacted": "接洽",
    "negotiating": "在谈",
    "signed": "签约",
    "registered": "注册",
    "started": "开工",
    "producing": "投产",
    "on_hold": "搁置",
    "dropped": "终止",
}
STAGE_ID_OF: dict[str, str] = {zh: en for en, zh in STAGE_IDS.items()}

# The Project column that records the date a ladder stage was first reached (counting uses these dates).
DATE_FIELD: dict[str, str] = {
    "签约": "signed_on",
    "注册": "registered_on",
    "开工": "started_on",
    "投产": "producing_on",
}

# Stages that need an earlier milestone: a project cannot start construction before it has signed, and
# cannot be counted as producing before construction (开业类 projects record their opening as 开工).
PREREQUISITE: dict[str, str] = {"注册": "签约", "开工": "签约", "投产": "开工"}


class StageError(ValueError):
    """A refused stage change; the message is Chinese and says what to do instead."""


@dataclass(frozen=True)
class StageFacts:
    """What the rules need to know about a project besides its current stage."""

    current: str
    reached: frozenset[str]  # ladder stages whose dates are set (签约 when signed_on is set, …)
    resume_stage: str | None  # the ladder stage a held or dropped project was at
    is_admin: bool = False


@dataclass(frozen=True)
class Transition:
    kind: str  # forward / back / hold / drop / resume / reopen
    from_stage: str
    to_stage: str


def normalize_stage(value: str) -> str:
    """Accept the Chinese name or the English id; raise StageError naming the valid stages otherwise."""
    text = (value or "").strip()
    if text in ALL_STAGES:
        return text
    if text.lower() in STAGE_IDS:
        return STAGE_IDS[text.lower()]
    raise StageError(f"未知的项目阶段“{value}”。可用阶段：{'、'.join(ALL_STAGES)}")


def rank(stage: str) -> int:
    return LADDER.index(stage)


def check_transition(facts: StageFacts, to_stage: str, reason: str = "") -> Transition:
    """Decide whether `facts.current → to_stage` is allowed; return its kind or raise StageError."""
    to = normalize_stage(to_stage)
    cur = facts.current
    has_reason = bool((reason or "").strip())
    if to == cur:
        raise StageError(f"项目已处于“{cur}”阶段，无需变更")

    if cur == DROP:
        if not facts.is_admin:
            raise StageError("项目已终止（退库），只有管理员可以重新启用，并须填写原因")
        if not has_reason:
            raise StageError("重新启用已终止的项目须填写原因")
        return _back_to_resume_stage(facts, to, "reopen")

    if cur == HOLD:
        if to == DROP:
            return _stop(cur, to, has_reason)
        return _back_to_resume_stage(facts, to, "resume")

    if to in (HOLD, DROP):
        if cur == "投产":
            raise StageError("项目已投产，不能再搁置或终止；如项目停产，请在走访记录中登记")
        return _stop(cur, to, has_reason)

    if rank(to) < rank(cur):
        if not has_reason:
            raise StageError(f"从“{cur}”退回“{to}”须填写原因，例如协议解除、注册撤销")
        return Transition("back", cur, to)

    needed = PREREQUISITE.get(to)
    # A forward jump may skip steps (a local firm's 扩建 needs no new registration), but never a prerequisite.
    if needed and needed not in facts.reached and needed != cur:
        raise StageError(
            f"项目尚未{needed}，不能进入“{to}”阶段。请先把阶段变更为“{needed}”并填写{needed}日期，再变更为“{to}”"
        )
    return Transition("forward", cur, to)


def _stop(cur: str, to: str, has_reason: bool) -> Transition:
    if not has_reason:
        what = "搁置" if to == HOLD else "终止（退库）"
        raise StageError(f"{what}项目须填写原因，例如企业投资计划调整、用地条件不具备")
    return Transition("hold" if to == HOLD else "drop", cur, to)


def _back_to_resume_stage(facts: StageFacts, to: str, kind: str) -> Transition:
    # A project resumes where it stopped: its dates and counts stay true. Moving it elsewhere is a separate change.
    target = facts.resume_stage or LADDER[0]
    if to != target:
        what = "恢复搁置项目" if kind == "resume" else "重新启用项目"
        raise StageError(f"{what}只能回到其搁置/终止前的阶段“{target}”；如需调整阶段，请恢复后再变更")
    return Transition(kind, facts.current, to)


def dates_to_clear(to_stage: str) -> list[str]:
    """Going back to `to_stage` un-reaches every later milestone (an annulled agreement is no longer a signing)."""
    return [DATE_FIELD[s] for s in LADDER[rank(to_stage) + 1 :] if s in DATE_FIELD]
