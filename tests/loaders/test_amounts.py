"""Amounts in yuan: separators and full-width digits parsed, exact decimals stored, and the
parts of a settlement (and of a fee line) must add up within 0.01 yuan."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

# the first valid settlement: medfee 150.00 = fund 90.00 (hifp 90.00) + acct 40.00 + cash 20.00


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {"medfee_sumamt": "1,234.50", "fund_pay_sumamt": "1,000.00", "hifp_pay": "1,000",
             "acct_pay": "200", "psn_cash_pay": "34.50"},
            {"medfee_sumamt": Decimal("1234.5"), "fund_pay_sumamt": Decimal(1000),
             "hifp_pay": Decimal(1000)},
            id="thousands-separators",
        ),
        pytest.param(
            {"medfee_sumamt": "１５０．００", "fund_pay_sumamt": "９０"},
            {"medfee_sumamt": Decimal(150), "fund_pay_sumamt": Decimal(90)},
            id="full-width",
        ),
        pytest.param(
            {"medfee_sumamt": "150.0001", "psn_cash_pay": "20.0001"},
            {"medfee_sumamt": Decimal("150.0001"), "psn_cash_pay": Decimal("20.0001")},
            id="four-decimals",
        ),
        pytest.param(
            {"medfee_sumamt": "1,000,150", "fund_pay_sumamt": "1,000,090",
             "hifp_pay": "1,000,090"},
            {"medfee_sumamt": Decimal(1000150)},
            id="millions",
        ),
        pytest.param(
            {"medfee_sumamt": "60", "fund_pay_sumamt": ".5", "hifp_pay": "0.5",
             "acct_pay": "39.5", "psn_cash_pay": "20"},
            {"fund_pay_sumamt": Decimal("0.5")},
            id="leading-point",
        ),
        pytest.param(
            {"fund_pay_sumamt": "90.01"},
            {"fund_pay_sumamt": Decimal("90.01")},
            id="off-by-exactly-the-tolerance",
        ),
        pytest.param(
            {"medfee_sumamt": "99,999,999,999,999.9999", "fund_pay_sumamt": "99999999999939.9999",
             "hifp_pay": "0"},
            {"medfee_sumamt": Decimal("99999999999999.9999")},
            id="largest-amount",
        ),
    ],
)
def test_amounts_are_parsed_exactly(
    tmp_path: Path, tiny: Any, changes: dict[str, str], expected: dict[str, Decimal]
) -> None:
    _, quarantine, stored = tiny.load_changed(tmp_path, "settlements", changes)
    assert quarantine == []
    (row,) = [r for r in stored if r["setl_id"] == "S000000001"]
    for column, value in expected.items():
        assert row[column] == value
        assert isinstance(row[column], Decimal)


@pytest.mark.parametrize(
    ("changes", "code", "column"),
    [
        ({"medfee_sumamt": "¥150"}, "bad_amount", "medfee_sumamt"),
        ({"medfee_sumamt": "150元"}, "bad_amount", "medfee_sumamt"),
        ({"medfee_sumamt": "1,50"}, "bad_amount", "medfee_sumamt"),
        ({"medfee_sumamt": "1.234,50"}, "bad_amount", "medfee_sumamt"),
        ({"medfee_sumamt": "1,5,0"}, "bad_amount", "medfee_sumamt"),
        ({"fund_pay_sumamt": "9,0.00"}, "bad_amount", "fund_pay_sumamt"),
        ({"medfee_sumamt": "150.00001"}, "bad_amount", "medfee_sumamt"),
        ({"medfee_sumamt": "1.5e2"}, "bad_amount", "medfee_sumamt"),
        ({"acct_pay": "1" * 20}, "bad_amount", "acct_pay"),
        ({"acct_pay": "-" + "9" * 15}, "bad_amount", "acct_pay"),
        ({"acct_pay": ""}, "missing_value", "acct_pay"),
        ({"fund_pay_sumamt": "90.02"}, "amounts_mismatch", "medfee_sumamt"),
        ({"medfee_sumamt": "15.00"}, "amounts_mismatch", "medfee_sumamt"),
        ({"hifp_pay": "100"}, "hifp_exceeds_fund", "hifp_pay"),
        ({"fund_pay_sumamt": "130", "hifp_pay": "130", "psn_cash_pay": "-20"}, "mixed_signs",
         "medfee_sumamt"),
    ],
)
def test_bad_amounts_are_quarantined(
    tmp_path: Path, tiny: Any, changes: dict[str, str], code: str, column: str
) -> None:
    report, quarantine, _ = tiny.load_changed(tmp_path, "settlements", changes)
    assert report.rows_in == 3
    assert report.inserted == 2
    (q,) = quarantine
    assert (q["row_no"], q["reason_code"], q["column_name"]) == (2, code, column)
    assert q["raw_value"] == (changes.get(column) or ("150.00" if column == "medfee_sumamt"
                                                        else None))


def test_amounts_mismatch_reason_gives_the_difference(tmp_path: Path, tiny: Any) -> None:
    _, (q,), _ = tiny.load_changed(tmp_path, "settlements", {"fund_pay_sumamt": "90.02"})
    assert "0.02" in q["reason_en"]
    assert "differs from medfee_sumamt by 0.02" in q["reason_en"]
    assert "相差 0.02" in q["reason_zh"]


def test_hifp_reason_names_both_amounts(tmp_path: Path, tiny: Any) -> None:
    _, (q,), _ = tiny.load_changed(tmp_path, "settlements", {"hifp_pay": "100"})
    assert q["reason_en"].startswith("hifp_pay 100 exceeds fund_pay_sumamt 90")


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({"cnt": "2", "pric": "25.005", "det_item_fee_sumamt": "50.00"}, True),  # off by 0.01
        ({"cnt": "2", "pric": "25.01", "det_item_fee_sumamt": "50.00"}, False),
        ({"cnt": "1,000", "pric": "0.05", "det_item_fee_sumamt": "50"}, True),
        ({"cnt": "0.5", "pric": "100", "det_item_fee_sumamt": "50"}, True),
    ],
    ids=["off-by-the-tolerance", "off-by-two-fen", "grouped-count", "half"],
)
def test_fee_line_must_equal_count_times_price(
    tmp_path: Path, tiny: Any, changes: dict[str, str], accepted: bool
) -> None:
    _, quarantine, _ = tiny.load_changed(tmp_path, "fee_details", changes)
    if accepted:
        assert quarantine == []
    else:
        (q,) = quarantine
        assert (q["row_no"], q["reason_code"]) == (2, "fee_amount_mismatch")
        assert "0.02" in q["reason_en"]


def test_separators_and_full_width_are_counted_as_normalised(tmp_path: Path, tiny: Any) -> None:
    report, _, _ = tiny.load_changed(
        tmp_path, "settlements", {"medfee_sumamt": "１５０", "acct_pay": "40.0"}
    )
    assert report.normalised == {"medfee_sumamt": 1}
    report, _, _ = tiny.load_changed(
        tmp_path / "again", "settlements", {"medfee_sumamt": "1,5,0"}
    )
    assert report.normalised == {}
    assert report.reasons == {"bad_amount": 1}


@pytest.mark.parametrize("column", ["cnt", "pric"])
def test_numbers_too_large_to_store_are_quarantined(tmp_path: Path, tiny: Any, column: str) -> None:
    report, (q,), _ = tiny.load_changed(tmp_path, "fee_details", {column: "1" * 13})
    assert (q["row_no"], q["column_name"], q["reason_code"]) == (2, column, "bad_number")
    assert report.rows_in == report.inserted + report.quarantined
