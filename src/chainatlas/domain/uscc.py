"""统一社会信用代码 (unified social credit code) validation per GB 32100-2015."""

from __future__ import annotations

import unicodedata

# GB 32100-2015 alphabet: digits and upper-case letters without I, O, Z, S, V.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class USCCError(ValueError):
    """A code that is not a valid USCC; the message says why, in Chinese."""


def normalize(raw: str) -> str:
    """Full-width to half-width, strip blanks, upper-case: how users paste codes from PDFs and WPS."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(text.split()).upper()


def check_digit(first17: str) -> str:
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, _WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def validate(raw: str) -> str:
    """Return the normalised code, or raise USCCError saying what is wrong."""
    code = normalize(raw)
    if len(code) != 18:
        raise USCCError(f"统一社会信用代码应为18位，实际为{len(code)}位")
    bad = [ch for ch in code if ch not in _VALUE]
    if bad:
        raise USCCError(f"统一社会信用代码含非法字符“{''.join(dict.fromkeys(bad))}”（不允许 I、O、Z、S、V 及符号）")
    expected = check_digit(code[:17])
    if code[17] != expected:
        raise USCCError(f"统一社会信用代码校验位错误：末位应为{expected}，实际为{code[17]}")
    return code


def is_valid(raw: str) -> bool:
    try:
        validate(raw)
    except USCCError:
        return False
    return True


def division_code(code: str) -> str:
    """Characters 3–8 of a USCC: the registering authority's administrative division code."""
    return normalize(code)[2:8]
