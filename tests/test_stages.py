"""Stage rules of the 招商 ledger: what may follow what, and what needs a reason."""

from __future__ import annotations

import pytest

from chainatlas.domain.stages import (
    ALL_STAGES,
    LADDER,
    StageError,
    StageFacts,
    check_transition,
    dates_to_clear,
    normalize_stage,
)


def facts(current: str, reached: set[str] = frozenset(), resume: str | None = None, admin: bool = False) -> StageFacts:
    return StageFacts(current, frozenset(reached), resume, is_admin=admin)


def test_ladder_and_names() -> None:
    assert LADDER == ("线索", "接洽", "在谈", "签约", "注册", "开工", "投产")
    assert ALL_STAGES[-2:] == ("搁置", "终止")
    assert normalize_stage("signed") == "签约"
    assert normalize_stage(" 开工 ") == "开工"
    with pytest.raises(StageError, match="未知的项目阶段“落地”.*可用阶段"):
        normalize_stage("落地")


def test_forward_steps_may_skip_but_not_past_signing() -> None:
    assert check_transition(facts("线索"), "在谈").kind == "forward"
    assert check_transition(facts("在谈"), "签约").kind == "forward"
    with pytest.raises(StageError, match="尚未签约，不能进入“开工”"):
        check_transition(facts("在谈"), "开工")
    with pytest.raises(StageError, match="尚未签约"):
        check_transition(facts("接洽"), "注册")
    # A local firm's expansion needs no new company: 签约 → 开工 directly is fine.
    assert check_transition(facts("签约", {"签约"}), "开工").kind == "forward"
    with pytest.raises(StageError, match="尚未开工，不能进入“投产”"):
        check_transition(facts("注册", {"签约", "注册"}), "投产")


def test_same_stage_is_refused() -> None:
    with pytest.raises(StageError, match="已处于“在谈”"):
        check_transition(facts("在谈"), "在谈")


def test_going_back_needs_a_reason() -> None:
    with pytest.raises(StageError, match="退回.*须填写原因"):
        check_transition(facts("签约", {"签约"}), "在谈")
    with pytest.raises(StageError):
        check_transition(facts("签约", {"签约"}), "在谈", reason="   ")
    assert check_transition(facts("签约", {"签约"}), "在谈", reason="协议解除").kind == "back"
    assert dates_to_clear("在谈") == ["signed_on", "registered_on", "started_on", "producing_on"]
    assert dates_to_clear("开工") == ["producing_on"]


def test_hold_and_drop_need_a_reason() -> None:
    with pytest.raises(StageError, match="搁置项目须填写原因"):
        check_transition(facts("在谈"), "搁置")
    with pytest.raises(StageError, match="终止（退库）项目须填写原因"):
        check_transition(facts("在谈"), "终止")
    assert check_transition(facts("在谈"), "搁置", reason="企业资金调整").kind == "hold"
    assert check_transition(facts("签约", {"签约"}), "终止", reason="选址他地").kind == "drop"
    with pytest.raises(StageError, match="已投产"):
        check_transition(facts("投产", {"签约", "开工", "投产"}), "搁置", reason="停产")


def test_resume_goes_back_to_the_held_stage() -> None:
    held = facts("搁置", {"签约"}, resume="签约")
    assert check_transition(held, "签约").kind == "resume"
    with pytest.raises(StageError, match="只能回到其搁置/终止前的阶段“签约”"):
        check_transition(held, "开工")
    with pytest.raises(StageError, match="只能回到"):
        check_transition(held, "在谈", reason="重新谈")
    assert check_transition(held, "终止", reason="企业放弃").kind == "drop"


def test_dropped_is_final_unless_an_admin_reopens_with_a_reason() -> None:
    dropped = facts("终止", set(), resume="在谈")
    with pytest.raises(StageError, match="只有管理员"):
        check_transition(dropped, "在谈", reason="企业重新接洽")
    admin = facts("终止", set(), resume="在谈", admin=True)
    with pytest.raises(StageError, match="须填写原因"):
        check_transition(admin, "在谈")
    assert check_transition(admin, "在谈", reason="企业重新接洽").kind == "reopen"
    with pytest.raises(StageError, match="“在谈”"):
        check_transition(admin, "签约", reason="直接签约")
