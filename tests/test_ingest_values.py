"""Cell parsers: dates, money with units and currencies, counts with units, lists and designations."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from chainatlas.domain.money import Money, MoneyError, parse_money
from chainatlas.ingest.values import ValueProblem, parse_amount_yuan, parse_count, parse_date, parse_designations, split_list


@pytest.mark.parametrize(
    "value",
    ["2019-01-02", "2019/1/2", "2019年1月2日", "2019 年 1 月 2 日", "2019.1.2", "20190102", 20190102, 43467, "43467",
     43467.0, "2019-01-02 00:00:00", datetime(2019, 1, 2, 8, 30), date(2019, 1, 2), "２０１９－０１－０２"],
)
def test_dates_in_the_forms_users_type(value: object) -> None:
    assert parse_date(value) == date(2019, 1, 2)


def test_year_and_month_only_means_the_first() -> None:
    assert parse_date("2019年3月") == date(2019, 3, 1)


@pytest.mark.parametrize("value,words", [("2019-02-30", "不是存在的日期"), ("明年", "不是可识别的日期"),
                                         ("1700-01-01", "年份 1700 不合理"), (123456789, "不是可识别的日期")])
def test_bad_dates_say_why(value: object, words: str) -> None:
    with pytest.raises(ValueProblem, match=words) as info:
        parse_date(value)
    assert info.value.action  # and what to do


@pytest.mark.parametrize(
    "text,amount,currency,yuan",
    [
        ("1000万人民币", 10_000_000, "CNY", 10_000_000),
        ("500万美元", 5_000_000, "USD", 35_500_000),
        ("1.2亿元", 120_000_000, "CNY", 120_000_000),
        ("1,000.5 万元", 10_005_000, "CNY", 10_005_000),
        ("100万元人民币", 1_000_000, "CNY", 1_000_000),
        ("（约）2亿", 200_000_000, "CNY", 200_000_000),
        ("300万港元", 3_000_000, "HKD", 2_730_000),
        ("５００万元", 5_000_000, "CNY", 5_000_000),
        (3_500_000, 3_500_000, "CNY", 3_500_000),
    ],
)
def test_money_with_units(text: object, amount: int, currency: str, yuan: int) -> None:
    assert parse_money(text) == Money(amount, currency, yuan)


def test_bare_number_takes_the_header_unit_but_explicit_units_win() -> None:
    assert parse_money("1000", 10_000).amount == 10_000_000  # 注册资本(万元) = 1000
    assert parse_money("1000万元", 10_000).amount == 10_000_000
    assert parse_money("800元", 10_000).amount == 800


@pytest.mark.parametrize("text,words", [("abc", "没有数字"), ("-5万", "负数"), ("1万吨", "无法理解“万吨”")])
def test_bad_money(text: str, words: str) -> None:
    with pytest.raises(MoneyError, match=words):
        parse_money(text)


@pytest.mark.parametrize("text,n", [("320", 320), ("1.2万人", 12_000), ("500-999人", 750), ("约300名", 300),
                                    (43119.0, 43119), ("100人以上", 100)])
def test_counts_with_units(text: object, n: int) -> None:
    assert parse_count(text) == n


def test_output_with_units_to_yuan() -> None:
    assert parse_amount_yuan("3.5亿") == 350_000_000
    assert parse_amount_yuan("1200", 10_000) == 12_000_000  # 产值(万元)
    with pytest.raises(ValueProblem):
        parse_amount_yuan("很多")


def test_lists_and_designations() -> None:
    assert split_list("动力电池、储能电池;BMS，动力电池") == ["动力电池", "储能电池", "BMS"]
    assert parse_designations("国家级专精特新小巨人(2023)；高新技术企业、高企") == [
        ("专精特新小巨人", "国家级", 2023), ("高新技术企业", "", None)]
