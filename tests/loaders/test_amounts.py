"""Amounts in yuan: separators and full-width digits parsed, exact decimals stored, and the
parts of a settlement (and of a fee line) must add up within 0.01 yuan."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from loaders.load import load_folder
from loaders.store import open_store

# Every case is a copy of the first valid settlement (medfee 150.00 = fund 90.00 (hifp 90.00)
# + acct 40.00 + cash 20.00) or fee line (2 x 25.00 = 50.00) with its own key and the case's
# changes, one row each, all in one load after the valid rows.

PARSED = [
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
]

REFUSED = [
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
]

FEE_LINES = [
    ({"cnt": "2", "pric": "25.005", "det_item_fee_sumamt": "50.00"}, True),  # off by 0.01
    ({"cnt": "2", "pric": "25.01", "det_item_fee_sumamt": "50.00"}, False),
    ({"cnt": "1,000", "pric": "0.05", "det_item_fee_sumamt": "50"}, True),
    ({"cnt": "0.5", "pric": "100", "det_item_fee_sumamt": "50"}, True),
    ({"cnt": "1" * 13}, False),  # more integer digits than DECIMAL(18,6) holds
    ({"pric": "1" * 13}, False),
]


@dataclass(frozen=True)
class _Batch:
    quarantine: dict[tuple[str, int], dict[str, Any]]
    settlements: dict[str, dict[str, Any]]


_S_CASES = [p.values[0] for p in PARSED] + [changes for changes, _, _ in REFUSED]
_S_FIRST = 2 + 3  # under the header and the three valid settlements
_F_FIRST = 2 + 4


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, tiny: Any) -> _Batch:
    rows = tiny.rows()
    s0, f0 = rows["settlements"][0], rows["fee_details"][0]
    rows["settlements"] += [
        {**s0, "setl_id": f"SA{j:06d}", "mdtrt_id": f"MA{j:06d}", **changes}
        for j, changes in enumerate(_S_CASES)
    ]
    rows["fee_details"] += [
        {**f0, "feedetl_sn": f"FA{j:04d}", **changes} for j, (changes, _) in enumerate(FEE_LINES)
    ]
    root = tmp_path_factory.mktemp("amounts")
    with open_store(root / "store.duckdb") as store:
        load_folder(tiny.write_folder(root / "export", rows), store)
        quarantine = {(q["table_name"], q["row_no"]): q for q in tiny.quarantine(store)}
        settlements = {r["setl_id"]: r for r in tiny.records(store, "settlements")}
    return _Batch(quarantine, settlements)


def _settlement_row(changes: dict[str, str]) -> tuple[str, int]:
    j = _S_CASES.index(changes)
    return f"SA{j:06d}", _S_FIRST + j


@pytest.mark.parametrize(("changes", "expected"), PARSED)
def test_amounts_are_parsed_exactly(
    batch: _Batch, changes: dict[str, str], expected: dict[str, Decimal]
) -> None:
    setl_id, row_no = _settlement_row(changes)
    assert ("settlements", row_no) not in batch.quarantine
    row = batch.settlements[setl_id]
    for column, value in expected.items():
        assert row[column] == value
        assert isinstance(row[column], Decimal)


@pytest.mark.parametrize(("changes", "code", "column"), REFUSED)
def test_bad_amounts_are_quarantined(
    batch: _Batch, changes: dict[str, str], code: str, column: str
) -> None:
    setl_id, row_no = _settlement_row(changes)
    q = batch.quarantine[("settlements", row_no)]
    assert (q["reason_code"], q["column_name"]) == (code, column)
    assert q["raw_value"] == (changes.get(column) or ("150.00" if column == "medfee_sumamt"
                                                        else None))
    assert setl_id not in batch.settlements


def test_amounts_mismatch_reason_gives_the_difference(batch: _Batch) -> None:
    q = batch.quarantine[("settlements", _settlement_row({"fund_pay_sumamt": "90.02"})[1])]
    assert "differs from medfee_sumamt by 0.02" in q["reason_en"]
    assert "相差 0.02" in q["reason_zh"]


def test_hifp_reason_names_both_amounts(batch: _Batch) -> None:
    q = batch.quarantine[("settlements", _settlement_row({"hifp_pay": "100"})[1])]
    assert q["reason_en"].startswith("hifp_pay 100 exceeds fund_pay_sumamt 90")


@pytest.mark.parametrize(("changes", "accepted"), FEE_LINES,
                         ids=["off-by-the-tolerance", "off-by-two-fen", "grouped-count", "half",
                              "huge-count", "huge-price"])
def test_fee_line_must_equal_count_times_price(
    batch: _Batch, changes: dict[str, str], accepted: bool
) -> None:
    row_no = _F_FIRST + [c for c, _ in FEE_LINES].index(changes)
    q = batch.quarantine.get(("fee_details", row_no))
    if accepted:
        assert q is None
    elif "1" * 13 in changes.values():
        assert q is not None
        (column,) = changes
        assert (q["column_name"], q["reason_code"]) == (column, "bad_number")
    else:
        assert q is not None
        assert q["reason_code"] == "fee_amount_mismatch"
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
