"""Duplicates: the first valid row of a key is loaded, later ones are quarantined (an exact
copy as duplicate_row, different values as duplicate_key); a key already stored with other
values conflicts with the store."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from loaders.load import load_files, load_folder
from loaders.store import Store


def _persons(tmp_path: Path, tiny: Any, rows: list[dict[str, str]], name: str = "a") -> Path:
    path: Path = tiny.write_table(tmp_path / name, "persons", rows)
    return path


def test_exact_duplicate_row(tmp_path: Path, store: Store, tiny: Any) -> None:
    p = tiny.rows("persons")["persons"]
    report = load_files({"persons": _persons(tmp_path, tiny, [p[0], p[1], p[0], p[0]])}, store)

    fr = report.files[0]
    assert (fr.rows_in, fr.inserted, fr.quarantined) == (4, 2, 2)
    got = [(q["row_no"], q["reason_code"], q["column_name"], q["raw_value"])
           for q in tiny.quarantine(store)]
    assert got == [
        (4, "duplicate_row", "psn_no", "00341200000001"),
        (5, "duplicate_row", "psn_no", "00341200000001"),
    ]
    assert tiny.quarantine(store)[0]["reason_en"] == (
        "exact duplicate of row 2: remove the duplicate"
    )


def test_same_key_other_values(tmp_path: Path, store: Store, tiny: Any) -> None:
    p = tiny.rows("persons")["persons"]
    other = {**p[0], "tel": "13900009999"}
    load_files({"persons": _persons(tmp_path, tiny, [p[0], other])}, store)

    (q,) = tiny.quarantine(store)
    assert (q["row_no"], q["reason_code"]) == (3, "duplicate_key")
    assert q["reason_en"] == (
        "psn_no '00341200000001' already appears on row 2 with different values: keep the "
        "correct row and delete the other"
    )
    assert tiny.stored(store, "persons", "tel") == [("13800001234",)]


def test_duplicates_are_found_after_normalisation(tmp_path: Path, store: Store, tiny: Any) -> None:
    """Full-width digits, padding and labels are the same key and the same values."""
    p = tiny.rows("persons")["persons"]
    same = {**p[0], "psn_no": "００３４１２０００００００１ ", "gend": "男", "brdy": "1980/01/01"}
    load_files({"persons": _persons(tmp_path, tiny, [p[0], same])}, store)
    (q,) = tiny.quarantine(store)
    assert (q["row_no"], q["reason_code"]) == (3, "duplicate_row")


def test_first_valid_row_wins_over_an_earlier_bad_one(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    rows = tiny.rows("institutions", "persons", "settlements")
    s = rows["settlements"][0]
    bad = {**s, "medfee_sumamt": "999.00"}  # amounts that do not add up: quarantined
    rows["settlements"] = [bad, s, s]
    load_folder(tiny.write_folder(tmp_path / "export", rows), store)
    got = [(q["row_no"], q["reason_code"]) for q in tiny.quarantine(store, "settlements")]
    assert got == [(2, "amounts_mismatch"), (4, "duplicate_row")]
    assert "exact duplicate of row 3" in tiny.quarantine(store, "settlements")[1]["reason_en"]
    assert tiny.stored(store, "settlements", "setl_id, medfee_sumamt") == [
        ("S000000001", Decimal("150.0000"))
    ]


def test_fee_details_key_is_settlement_and_line(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = tiny.rows()
    fee = rows["fee_details"]
    # F0001 exists under two settlements in the valid data: not a duplicate
    assert [f["feedetl_sn"] for f in fee].count("F0001") == 2
    fee.append({**fee[0], "med_list_name": "阿莫西林胶囊（另一名称）"})

    report = load_folder(tiny.write_folder(tmp_path / "export", rows), store)

    assert tiny.file_report(report, "fee_details").reasons == {"duplicate_key": 1}
    (q,) = tiny.quarantine(store, "fee_details")
    assert (q["row_no"], q["column_name"], q["raw_value"]) == (
        6, "setl_id+feedetl_sn", "S000000001/F0001"
    )
    assert "'S000000001/F0001' already appears on row 2" in q["reason_en"]


def test_conflict_with_the_store(tmp_path: Path, store: Store, tiny: Any) -> None:
    p = tiny.rows("persons")["persons"]
    first = load_files({"persons": _persons(tmp_path, tiny, p, "a")}, store)
    changed = [{**p[0], "tel": "13900009999"}, p[1]]

    report = load_files({"persons": _persons(tmp_path, tiny, changed, "b")}, store)

    fr = report.files[0]
    assert (fr.rows_in, fr.inserted, fr.unchanged, fr.quarantined) == (2, 0, 1, 1)
    (q,) = tiny.quarantine(store)
    assert (q["load_id"], q["row_no"]) == (report.load_id, 2)
    assert q["reason_code"] == "conflicts_with_store"
    assert q["reason_en"] == (
        f"psn_no '00341200000001' is already in the store (load {first.load_id}) with different "
        "values: retract the stored row before correcting it"
    )
    assert tiny.stored(store, "persons", "tel")[0] == ("0558-2212345",)
    assert ("13800001234",) in tiny.stored(store, "persons", "tel")


def test_the_same_row_in_a_renamed_file_is_unchanged(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    p = tiny.rows("persons")["persons"]
    load_files({"persons": _persons(tmp_path, tiny, p, "a")}, store)
    spelled = [{**r, "gend": {"1": "男", "2": "女"}[r["gend"]]} for r in p]
    report = load_files({"persons": _persons(tmp_path, tiny, spelled, "b")}, store)
    fr = report.files[0]
    assert (fr.inserted, fr.unchanged, fr.quarantined) == (0, 3, 0)
