"""References: a settlement's person and institution, a practitioner's institution and a fee
line's settlement must exist, in this load or in the store; otherwise the row is quarantined,
and when the referenced row was itself quarantined the reason says where."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loaders.load import load_folder
from loaders.store import Store


def _load(tmp_path: Path, store: Store, tiny: Any, rows: dict[str, list[dict[str, str]]],
          name: str = "export") -> Any:
    return load_folder(tiny.write_folder(tmp_path / name, rows), store)


@pytest.mark.parametrize(
    ("table", "column", "value", "target"),
    [
        ("settlements", "psn_no", "00341200000099", "persons"),
        ("settlements", "fixmedins_code", "H34120000099", "institutions"),
        ("practitioners", "fixmedins_code", "P34120000099", "institutions"),
        ("fee_details", "setl_id", "S000000099", "settlements"),
    ],
)
def test_unknown_reference_is_quarantined(
    tmp_path: Path, store: Store, tiny: Any, table: str, column: str, value: str, target: str
) -> None:
    rows = tiny.rows(*tiny.NEEDS[table], table)
    rows[table][1][column] = value

    report = _load(tmp_path, store, tiny, rows)

    fr = tiny.file_report(report, table)
    assert (fr.inserted, fr.quarantined, fr.reasons) == (
        len(rows[table]) - 1, 1, {"unknown_reference": 1}
    )
    (q,) = tiny.quarantine(store, table)
    assert (q["row_no"], q["column_name"], q["raw_value"]) == (3, column, value)
    assert q["reason_en"] == (
        f"{column} '{value}' does not exist in {target}: load that record first or fix the code"
    )
    assert value in q["reason_zh"]
    assert target in q["reason_zh"]


def test_reference_to_a_quarantined_row_says_where(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    rows = tiny.rows()
    rows["settlements"][0]["medfee_sumamt"] = "999.00"  # S000000001 refused, settlements row 2

    report = _load(tmp_path, store, tiny, rows)

    assert tiny.file_report(report, "fee_details").reasons == {"reference_quarantined": 2}
    q = tiny.quarantine(store, "fee_details")[0]
    assert (q["row_no"], q["column_name"], q["raw_value"]) == (2, "setl_id", "S000000001")
    assert q["reason_en"] == (
        "setl_id 'S000000001' refers to a row that was quarantined "
        "(settlements.csv row 2: amounts_mismatch): fix that row first"
    )
    assert "settlements.csv row 2: amounts_mismatch" in q["reason_zh"]


def test_a_noted_row_never_orphans_its_dependants(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    rows = tiny.rows("institutions", "persons", "settlements")
    rows["persons"][0]["gend"] = "x"  # an unknown code: person 00341200000001 kept, noted
    rows["institutions"][0]["hosp_lv"] = "甲等"  # the same for the hospital of every settlement

    report = _load(tmp_path, store, tiny, rows)

    assert report.quarantined == 0
    assert report.noted == 2
    assert tiny.file_report(report, "settlements").inserted == len(rows["settlements"])


def test_references_resolve_against_the_store(tmp_path: Path, store: Store, tiny: Any) -> None:
    first = _load(tmp_path, store, tiny, tiny.rows("institutions", "persons"), "one")
    second = _load(tmp_path, store, tiny, tiny.rows("practitioners", "settlements",
                                                    "fee_details"), "two")
    assert first.quarantined == second.quarantined == 0
    assert second.inserted == 2 + 3 + 4


def test_references_resolve_within_the_same_load(tmp_path: Path, store: Store, tiny: Any) -> None:
    report = _load(tmp_path, store, tiny, tiny.rows())
    assert report.quarantined == 0
    assert store.table_counts()["fee_details"] == 4


def test_fee_lines_of_a_quarantined_settlement_follow_it(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    rows = tiny.rows()
    rows["settlements"][0]["setl_time"] = "2024-02-30 10:00:00"  # S000000001, two fee lines

    _load(tmp_path, store, tiny, rows)

    fee = tiny.quarantine(store, "fee_details")
    assert [(q["row_no"], q["reason_code"], q["raw_value"]) for q in fee] == [
        (2, "reference_quarantined", "S000000001"),
        (3, "reference_quarantined", "S000000001"),
    ]
    assert "settlements.csv row 2: bad_date" in fee[0]["reason_en"]
    assert tiny.stored(store, "fee_details", "setl_id, feedetl_sn") == [
        ("S000000002", "F0001"), ("S000000003", "F0003"),
    ]


def test_a_row_with_a_bad_value_is_not_also_checked_for_references(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    rows = tiny.rows("institutions", "persons", "settlements")
    rows["settlements"][0]["psn_no"] = "00341200000099"
    rows["settlements"][0]["setl_time"] = "2024-02-30 10:00:00"
    _load(tmp_path, store, tiny, rows)
    (q,) = tiny.quarantine(store, "settlements")
    assert q["reason_code"] == "bad_date"  # the first problem found is the one reported


def test_optional_doctor_codes_are_not_references(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = tiny.rows("institutions", "persons", "settlements")
    rows["settlements"][0]["dr_codg"] = "D99999999999"  # no such practitioner: not checked
    report = _load(tmp_path, store, tiny, rows)
    assert report.quarantined == 0
