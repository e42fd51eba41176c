"""English division names: every division has one, in the usual Pinyin forms."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboards.i18n import columns, place
from yibao.divisions import division, divisions_frame, english_name


def test_every_division_has_an_english_name() -> None:
    frame = divisions_frame()
    assert (frame["name_en"].str.len() > 0).all()
    assert frame["name_en"].str.fullmatch(r"[A-Z][a-z'üA-Z ()]+").all()


def test_cities_that_read_alike_carry_their_province() -> None:
    frame = divisions_frame()
    cities = frame[frame["level"] == "city"].drop_duplicates("name")
    assert cities["name_en"].is_unique
    assert division("320500").name_en == "Suzhou (Jiangsu)"
    assert division("341300").name_en == "Suzhou (Anhui)"


@pytest.mark.parametrize(("zh", "en"), [
    ("合肥市", "Hefei"), ("蜀山区", "Shushan District"), ("闵行区", "Minhang District"),
    ("六安市", "Lu'an"), ("昆山市", "Kunshan City"), ("浦东新区", "Pudong New Area"),
    ("蚌埠市", "Bengbu"), ("长宁区", "Changning District"), ("江苏省", "Jiangsu"),
    ("上海市", "Shanghai"), ("歙县", "She County"), ("不是地名", "不是地名"),
])
def test_english_name(zh: str, en: str) -> None:
    assert english_name(zh) == en


def test_division_carries_its_english_name() -> None:
    assert division("341200").name_en == "Fuyang"


def test_tables_show_places_in_english() -> None:
    frame = pd.DataFrame({"home": ["阜阳市"], "city_names": ["合肥市、苏州市"], "psn_no": ["1"]})
    shown = columns(frame, "en")
    assert shown["Insured in"].tolist() == ["Fuyang"]
    assert shown["city_names"].tolist() == ["Hefei, Suzhou (Jiangsu)"]
    assert columns(frame, "zh")["参保地"].tolist() == ["阜阳市"]
    assert place(None, "en") is None
