"""``division_name(code, lang)``: the one way every page names a division."""

from __future__ import annotations

import pytest

from yibao.divisions import division_list, division_name, divisions_frame


@pytest.mark.parametrize(("code", "zh", "en"), [
    ("340100", "合肥市", "Hefei"), ("310100", "上海市", "Shanghai"),
    ("310000", "上海市", "Shanghai"), ("310115", "浦东新区", "Pudong New Area"),
    ("320500", "苏州市", "Suzhou (Jiangsu)"), ("341300", "宿州市", "Suzhou (Anhui)"),
    ("320000", "江苏省", "Jiangsu"), ("341322", "萧县", "Xiao County"),
])
def test_division_name(code: str, zh: str, en: str) -> None:
    assert division_name(code, "zh") == zh
    assert division_name(code) == zh
    assert division_name(code, "en") == en


def test_an_unknown_code_stays_as_the_data_holds_it() -> None:
    assert division_name("110000", "en") == "110000"
    assert division_name("", "zh") == ""


def test_every_division_has_a_name_in_both_languages() -> None:
    for code in divisions_frame()["code"]:
        assert division_name(code, "zh") != code
        assert division_name(code, "en").isascii()


def test_division_list() -> None:
    assert division_list(["320100", "330200"], "zh") == "南京市、宁波市"
    assert division_list(["320100", "330200"], "en") == "Nanjing, Ningbo"
    assert division_list([], "en") == ""
