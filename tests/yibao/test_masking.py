"""Masking rules: 张** / 3401**********1234 / 138****5678, and whole frames."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from yibao.masking import mask_certno, mask_frame, mask_name, mask_phone


def test_examples_from_the_issue() -> None:
    assert mask_name("张三") == "张**"
    assert mask_name("欧阳娜娜") == "欧**"
    assert mask_certno("340102199001011234") == "3401**********1234"
    assert mask_phone("13812345678") == "138****5678"


def test_none_and_short_values() -> None:
    assert mask_name(None) is None
    assert mask_certno("1234") == "****"
    assert mask_phone("12345") == "*****"


@given(st.text(alphabet="0123456789X", min_size=9, max_size=18))
def test_certno_keeps_only_four_and_four(value: str) -> None:
    masked = mask_certno(value)
    assert masked is not None
    assert len(masked) == len(value)
    assert masked[:4] == value[:4]
    assert masked[-4:] == value[-4:]
    assert set(masked[4:-4]) <= {"*"}


def test_frame_masks_personal_columns_only() -> None:
    frame = pd.DataFrame({"psn_no": ["P1"], "psn_name": ["王小明"],
                          "certno": ["340102199001011234"], "tel": ["13812345678"]})
    out = mask_frame(frame)
    assert out.iloc[0].tolist() == ["P1", "王**", "3401**********1234", "138****5678"]
    assert frame.iloc[0]["psn_name"] == "王小明"  # the input is not changed


def test_doctors_and_operators_are_personal_and_mask_value_masks_by_kind() -> None:
    from yibao.masking import PERSONAL_COLUMNS, mask_value

    frame = pd.DataFrame({"dr_name": ["赵医生"], "opter_name": ["钱收款"], "dept_name": ["内科"]})
    masked = mask_frame(frame)
    assert (masked["dr_name"][0], masked["opter_name"][0]) == ("赵**", "钱**")
    assert masked["dept_name"][0] == "内科"
    assert {PERSONAL_COLUMNS[c] for c in ("dr_name", "opter_name")} == {"name"}
    assert mask_value("13800001234", "phone") == "138****1234"
    assert mask_value(None, "name") is None
