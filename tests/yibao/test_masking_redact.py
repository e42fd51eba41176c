"""Evidence sentences lose person numbers, names, ID and phone numbers before a briefing."""

from __future__ import annotations

from tests.conftest import make_certno
from yibao.masking import REMOVED, redact_text


def test_person_numbers_are_removed_entirely() -> None:
    text = ("参保人 34120000001553220213 于 2024-03-30 08:36 在 P34122641243 结算，"
            "11 分钟后在 P33052127259 结算")
    out = redact_text(text, person_codes=["34120000001553220213"])
    assert "34120000001553220213" not in out
    assert f"参保人 {REMOVED} 于" in out
    assert "P34122641243" in out  # institution codes are not personal data


def test_names_are_masked_to_the_surname() -> None:
    out = redact_text("张三丰与李四在同一药店结算", names=["张三丰", "李四", "王"])
    assert out == "张**与李**在同一药店结算"


def test_a_name_inside_a_longer_name_does_not_leave_half_of_it() -> None:
    assert redact_text("欧阳明日", names=["欧阳明", "欧阳明日"]) == "欧**"


def test_id_and_phone_numbers_are_masked_wherever_they_appear() -> None:
    certno = make_certno("340102", "19900101", "123")
    text = f"证件 {certno}，电话 13812345678；追溯码 88772545002142550988 不是号码"
    out = redact_text(text)
    assert certno not in out
    assert f"{certno[:4]}**********{certno[-4:]}" in out
    assert "138****5678" in out
    assert "88772545002142550988" in out  # a 20-digit trace code is neither
    x_id = "11010519491231002X"
    assert redact_text(f"ID:{x_id}.") == "ID:1101**********002X."


def test_plain_text_is_left_alone() -> None:
    text = "31 人在 康宁大药房(吴中育才路店)（P32050643853）于 11 个相同日期结算"
    assert redact_text(text, person_codes=[""], names=[""]) == text
