"""USCC (统一社会信用代码) validation with real-format codes, GB 32100-2015."""

from __future__ import annotations

import pytest

from chainatlas.domain.uscc import USCCError, check_digit, division_code, is_valid, normalize, validate

# Public codes of well-known firms (business licences are public): their check digits were computed by the
# registration authorities, not by our code, so they test check_digit independently.
REAL = {
    "9144030071526726XG": "深圳市腾讯计算机系统有限公司",
    "914403001922038216": "华为技术有限公司",
    "91330100799655058B": "阿里巴巴（中国）有限公司",
    "91440300192317458F": "比亚迪股份有限公司",
}


@pytest.mark.parametrize("code", sorted(REAL))
def test_real_codes_are_valid(code: str) -> None:
    assert validate(code) == code
    assert check_digit(code[:17]) == code[17]


def test_wrong_check_digit_names_the_expected_digit() -> None:
    with pytest.raises(USCCError, match="校验位错误：末位应为G，实际为H"):
        validate("9144030071526726XH")


@pytest.mark.parametrize("code,length", [("9144030071526726X", 17), ("9144030071526726XGG", 19), ("", 0)])
def test_wrong_length(code: str, length: int) -> None:
    with pytest.raises(USCCError, match=f"应为18位，实际为{length}位"):
        validate(code)


def test_lower_case_and_blanks_are_normalised() -> None:
    assert validate("9144030071526726xg") == "9144030071526726XG"
    assert validate(" 91440300 1923 17458f ") == "91440300192317458F"


def test_full_width_code_from_a_pdf_is_accepted() -> None:
    full = "９１４４０３００１９２２０３８２１６"
    assert normalize(full) == "914403001922038216"
    assert is_valid(full)


@pytest.mark.parametrize("bad", ["I", "O", "Z", "S", "V", "-"])
def test_letters_outside_the_alphabet_are_rejected(bad: str) -> None:
    code = "91440300192317458" + bad
    with pytest.raises(USCCError, match="非法字符"):
        validate(code)


def test_division_code_is_characters_3_to_8() -> None:
    assert division_code("914403001922038216") == "440300"
