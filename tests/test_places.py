"""City points for the map of China: seats from cpca's division table, municipalities by their own name."""

from __future__ import annotations

from chainatlas.services.catalog.places import city_seat


def test_city_seats() -> None:
    name, lon, lat = city_seat("4201")
    assert name == "武汉市" and 114 < lon < 115 and 30 < lat < 31
    assert city_seat("1101")[0] == "北京市" and city_seat("3101")[0] == "上海市"
    assert city_seat("4403")[0] == "深圳市"
    assert city_seat("9999") is None
