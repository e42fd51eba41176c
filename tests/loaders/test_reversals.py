"""Reversals (冲销): a negative settlement cancelling an earlier one is kept and linked to it
through init_setl_id, never dropped; one that cancels nothing, or cancels twice, is
quarantined."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from loaders.load import load_folder
from loaders.store import Store

_AMOUNTS = ("medfee_sumamt", "fund_pay_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay")


def _reversal(original: dict[str, str], setl_id: str, setl_time: str, *,
              init: str = "") -> dict[str, str]:
    """The negative copy of ``original``: same visit, person and institution."""
    row = {**original, "setl_id": setl_id, "setl_time": setl_time, "init_setl_id": init}
    for column in _AMOUNTS:
        value = Decimal(original[column])
        row[column] = str(-value) if value else "0"
    return row


def _load(tmp_path: Path, store: Store, tiny: Any, settlements: list[dict[str, str]],
          name: str = "export", with_parents: bool = True) -> Any:
    rows = tiny.rows("institutions", "persons") if with_parents else {}
    rows["settlements"] = settlements
    return tiny.file_report(load_folder(tiny.write_folder(tmp_path / name, rows), store),
                            "settlements")


def _links(store: Store) -> dict[str, str | None]:
    return dict(store.con.execute("SELECT setl_id, init_setl_id FROM settlements").fetchall())


@pytest.mark.parametrize("init", ["", "S000000001"], ids=["matched", "named"])
def test_reversal_is_kept_and_linked(tmp_path: Path, store: Store, tiny: Any, init: str) -> None:
    s = tiny.rows("settlements")["settlements"]
    rev = _reversal(s[0], "S000000101", "2024-03-06 10:00:00", init=init)

    fr = _load(tmp_path, store, tiny, [*s, rev])

    assert (fr.rows_in, fr.inserted, fr.quarantined) == (4, 4, 0)
    links = _links(store)
    assert links["S000000101"] == "S000000001"
    assert links["S000000001"] is None
    (amount,) = store.con.execute(
        "SELECT medfee_sumamt FROM settlements WHERE setl_id = 'S000000101'"
    ).fetchone() or (None,)
    assert amount == Decimal("-150")


def test_reversal_before_its_original_in_the_file(tmp_path: Path, store: Store, tiny: Any) -> None:
    s = tiny.rows("settlements")["settlements"]
    rev = _reversal(s[0], "S000000101", "2024-03-06 10:00:00")
    fr = _load(tmp_path, store, tiny, [rev, *s])
    assert fr.quarantined == 0
    assert _links(store)["S000000101"] == "S000000001"


def test_reversal_of_an_original_loaded_earlier(tmp_path: Path, store: Store, tiny: Any) -> None:
    s = tiny.rows("settlements")["settlements"]
    _load(tmp_path, store, tiny, s, "one")
    rev = _reversal(s[1], "S000000102", "2024-03-13 08:00:00")
    fr = _load(tmp_path, store, tiny, [rev], "two", with_parents=False)
    assert (fr.inserted, fr.quarantined) == (1, 0)
    assert _links(store)["S000000102"] == "S000000002"


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"medfee_sumamt": "-140.00", "psn_cash_pay": "-10.00"},
         "no earlier settlement of the same mdtrt_id, person and institution with the opposite "
         "total"),
        ({"mdtrt_id": "M000000999"}, "no earlier settlement"),
        ({"psn_no": "00341200000002"}, "no earlier settlement"),
        ({"setl_time": "2024-03-05 09:00:00"}, "no earlier settlement"),  # before the original
        ({"init_setl_id": "S000000999"}, "init_setl_id S000000999 not found or amounts differ"),
        ({"init_setl_id": "S000000002"}, "init_setl_id S000000002 not found or amounts differ"),
    ],
    ids=["other-total", "other-visit", "other-person", "earlier", "unknown-init", "wrong-init"],
)
def test_reversal_that_cancels_nothing_is_quarantined(
    tmp_path: Path, store: Store, tiny: Any, change: dict[str, str], detail: str
) -> None:
    s = tiny.rows("settlements")["settlements"]
    rev = {**_reversal(s[0], "S000000101", "2024-03-06 10:00:00"), **change}

    fr = _load(tmp_path, store, tiny, [*s, rev])

    assert (fr.inserted, fr.quarantined, fr.reasons) == (3, 1, {"unmatched_reversal": 1})
    (q,) = tiny.quarantine(store, "settlements")
    assert (q["row_no"], q["column_name"], q["reason_code"]) == (5, "init_setl_id",
                                                                 "unmatched_reversal")
    assert "'S000000101'" in q["reason_en"]
    assert detail in q["reason_en"]
    assert "冲销" in q["reason_zh"]


def test_a_settlement_is_reversed_once(tmp_path: Path, store: Store, tiny: Any) -> None:
    s = tiny.rows("settlements")["settlements"]
    first = _reversal(s[0], "S000000101", "2024-03-06 10:00:00")
    second = _reversal(s[0], "S000000102", "2024-03-07 10:00:00", init="S000000001")

    fr = _load(tmp_path, store, tiny, [*s, first, second])

    assert (fr.inserted, fr.reasons) == (4, {"already_reversed": 1})
    (q,) = tiny.quarantine(store, "settlements")
    assert (q["row_no"], q["reason_code"]) == (6, "already_reversed")
    assert q["reason_en"] == (
        "settlement 'S000000001' has already been reversed: a settlement cannot be reversed twice"
    )


def test_a_settlement_reversed_in_an_earlier_load_is_not_reversed_again(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    s = tiny.rows("settlements")["settlements"]
    _load(tmp_path, store, tiny, [*s, _reversal(s[0], "S000000101", "2024-03-06 10:00:00")],
          "one")
    fr = _load(tmp_path, store, tiny,
               [_reversal(s[0], "S000000102", "2024-03-07 10:00:00")], "two", with_parents=False)
    assert fr.reasons == {"already_reversed": 1}


def test_the_next_unreversed_settlement_of_a_visit_is_cancelled(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    """Two settlements of one visit with the same total, reversed one load after another: the
    second reversal cancels the settlement the first one left, not the same one again."""
    s = tiny.rows("settlements")["settlements"]
    again = {**s[0], "setl_id": "S000000004", "setl_time": "2024-03-05 11:00:00"}
    _load(tmp_path, store, tiny,
          [*s, again, _reversal(s[0], "S000000101", "2024-03-06 10:00:00")], "one")
    assert _links(store)["S000000101"] == "S000000004"  # the latest earlier one

    fr = _load(tmp_path, store, tiny,
               [_reversal(s[0], "S000000102", "2024-03-07 10:00:00")], "two", with_parents=False)

    assert (fr.inserted, fr.quarantined) == (1, 0)
    assert _links(store)["S000000102"] == "S000000001"


def test_settle_reverse_settle_reverse(tmp_path: Path, store: Store, tiny: Any) -> None:
    s = tiny.rows("settlements")["settlements"]
    again = {**s[0], "setl_id": "S000000004", "setl_time": "2024-03-06 11:00:00"}
    rows = [s[0], _reversal(s[0], "S000000101", "2024-03-06 10:00:00"), again,
            _reversal(s[0], "S000000102", "2024-03-07 10:00:00")]
    fr = _load(tmp_path, store, tiny, rows)
    assert fr.quarantined == 0
    links = _links(store)
    assert (links["S000000101"], links["S000000102"]) == ("S000000001", "S000000004")


def test_reloading_reversals_adds_nothing(tmp_path: Path, store: Store, tiny: Any) -> None:
    s = tiny.rows("settlements")["settlements"]
    rows = [*s, _reversal(s[0], "S000000101", "2024-03-06 10:00:00"),
            _reversal(s[0], "S000000102", "2024-03-07 10:00:00"),  # already reversed
            _reversal(s[1], "S000000103", "2024-03-07 10:00:00", init="S000000999")]  # nothing
    first = _load(tmp_path, store, tiny, rows)
    before = tiny.snapshot(store)

    again = _load(tmp_path, store, tiny, rows)

    assert (first.inserted, first.quarantined) == (4, 2)
    assert (again.inserted, again.unchanged, again.quarantined) == (0, 4, 2)
    after = tiny.snapshot(store)
    for name in ("settlements", "quarantine"):
        assert after[name] == before[name]
    assert _links(store)["S000000101"] == "S000000001"


def test_negative_amounts_need_negative_parts(tmp_path: Path, store: Store, tiny: Any) -> None:
    s = tiny.rows("settlements")["settlements"]
    rev = {**_reversal(s[0], "S000000101", "2024-03-06 10:00:00"), "acct_pay": "40.00",
           "psn_cash_pay": "-100.00"}
    fr = _load(tmp_path, store, tiny, [*s, rev])
    assert fr.reasons == {"mixed_signs": 1}
