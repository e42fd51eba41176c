"""Every row of the clean set honours the data contract: patterns, enums, check digits, sums.

The checks run on the real formats (``clean``) and, where shapes matter, on the legacy formats
(``legacy``) too; ``test_synth_formats`` checks the shares and meaning of the real shapes.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import shapely
from synth_helpers import SynthSet, fen

from loaders.contract import TABLES, CodeFormat, Kind
from yibao.divisions import division_geometries, is_known_division
from yibao.synth._code_tables import LEGACY_STAFF_PATTERN
from yibao.synth._format import table_columns

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_AMOUNT = re.compile(r"-?\d+\.\d{2}")


def _check_char(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def _matches_a_format(values: pd.Series, formats: tuple[CodeFormat, ...]) -> pd.Series:
    ok = pd.Series(False, index=values.index)
    for f in formats:
        ok |= values.str.fullmatch(f.pattern)
    return ok


@pytest.mark.parametrize("table", list(TABLES))
def test_columns_patterns_enums_and_required_cells(either: SynthSet, table: str) -> None:
    """The legacy set holds the contract's codes only; the real set may also hold the labels of
    the contract's code tables, and every ID matches one of the contract's national formats (so
    clean data never earns a ``nonstandard_code`` note)."""
    frame = either[table]
    real = "opter_id" in either["settlements"].columns
    contract = TABLES[table]
    assert list(frame.columns) == list(table_columns(table, operators=real))
    in_contract = [c for c in frame.columns if c in contract.column_names]
    assert in_contract == [c for c in contract.column_names if c in in_contract], "contract order"
    assert {c.name for c in contract.columns if c.required} <= set(frame.columns)
    for col in contract.columns:
        if col.name not in frame.columns:
            assert not col.required
            continue
        values = frame[col.name]
        present = values[values != ""]
        if not col.nullable:
            assert len(present) == len(values), f"{table}.{col.name} has empty cells"
        if col.pattern and col.kind != Kind.CODE_LIST:
            bad = present[~present.str.fullmatch(col.pattern)]
            assert bad.empty, f"{table}.{col.name}: {bad.head().tolist()}"
        if col.formats:
            bad = present[~_matches_a_format(present, col.formats)]
            assert bad.empty, f"{table}.{col.name} outside the national formats: {bad.head()}"
        if col.kind == Kind.ENUM:
            allowed = set(col.choices) | (set(dict(col.labels)) if real else set())
            bad = present[~present.isin(allowed)]
            assert bad.empty, f"{table}.{col.name}: {bad.unique()[:5].tolist()}"
        if col.kind == Kind.AMOUNT:
            assert present.str.fullmatch(_AMOUNT).all(), f"{table}.{col.name}"
        if col.kind == Kind.DIVISION:
            assert present.map(is_known_division).all(), f"{table}.{col.name}"
        if col.kind == Kind.CODE_LIST:
            codes = present.str.split(";").explode()
            assert codes.str.fullmatch(col.pattern or "").all()


def test_persons(clean: SynthSet) -> None:
    p = clean["persons"]
    assert p["psn_no"].is_unique
    assert p["certno"].is_unique
    assert (p["psn_no"].str[:6] == p["insu_admdvs"]).all()
    assert p["insu_admdvs"].str.endswith("00").all()
    certno = p["certno"]
    assert (certno.str[17] == certno.str[:17].map(_check_char)).all(), "GB 11643 check digit"
    assert (certno.str[6:14] == p["brdy"].str.replace("-", "")).all()
    odd = certno.str[16].astype(int) % 2 == 1
    assert ((p["gend"] == "1") == odd).all(), "odd sequence = male"
    assert certno.str[:6].map(is_known_division).all()
    tel = p.loc[p["tel"] != "", "tel"]
    assert tel.str.fullmatch(r"1[3-9]\d{9}").all()
    assert set(p["insutype"]) <= {"310", "340", "390"}
    assert p["insutype"].isin(["310", "390"]).mean() > 0.98
    brdy = pd.to_datetime(p["brdy"])
    assert brdy.min() >= pd.Timestamp("1920-01-01")
    assert brdy.max() < pd.Timestamp("2024-01-01")


def test_institutions_and_practitioners(legacy: SynthSet) -> None:
    inst = legacy["institutions"]
    assert inst["fixmedins_code"].is_unique
    assert (inst["fixmedins_code"].str[1:7] == inst["admdvs"]).all()
    pharmacy = inst["fixmedins_code"].str.startswith("P")
    assert ((inst["fixmedins_type"] == "2") == pharmacy).all()
    assert (inst.loc[pharmacy, "hosp_lv"] == "").all()
    assert (inst.loc[~pharmacy, "hosp_lv"] != "").all()
    assert inst["lon"].str.fullmatch(r"\d+\.\d{6}").all()
    assert inst["lat"].str.fullmatch(r"\d+\.\d{6}").all()
    assert pharmacy.mean() > 0.4, "many retail pharmacies"
    top = inst[inst["hosp_lv"] == "02"]
    assert top["admdvs"].str[:4].nunique() == 41, "a 三级甲等 hospital in every city"
    assert inst["addr"].ne("").all()

    prac = legacy["practitioners"]
    assert prac["dr_codg"].is_unique
    assert prac["dr_codg"].str.fullmatch(LEGACY_STAFF_PATTERN).all()
    kind = prac["fixmedins_code"].map(inst.set_index("fixmedins_code")["fixmedins_type"])
    assert kind.notna().all(), "every practitioner works at a listed institution"
    assert ((prac["dr_codg"].str[0] == "D") == (kind == "1")).all()
    assert ((prac["dr_type"] == "1") == (kind == "1")).all()
    assert (prac["dr_codg"].str[1:7] == prac["fixmedins_code"].str[1:7]).all()


def test_institutions_lie_in_their_county(clean: SynthSet) -> None:
    inst = clean["institutions"]
    geoms = division_geometries("county")
    lon = inst["lon"].astype(float).to_numpy()
    lat = inst["lat"].astype(float).to_numpy()
    for county, idx in inst.groupby("admdvs").indices.items():
        inside = shapely.contains_xy(geoms[county], lon[idx], lat[idx])
        assert inside.all(), f"{county}: {inst.iloc[idx[~inside]]['fixmedins_code'].tolist()}"


def test_settlement_amounts_dates_and_references(clean: SynthSet,
                                                 settlements: pd.DataFrame) -> None:
    s = settlements
    assert len(s) == 10_000
    assert s["setl_id"].is_unique
    parts = s["fund_pay_sumamt_fen"] + s["acct_pay_fen"] + s["psn_cash_pay_fen"]
    assert (parts == s["medfee_sumamt_fen"]).all(), "fund + account + cash == total, exactly"
    assert (s["hifp_pay_fen"].abs() <= s["fund_pay_sumamt_fen"].abs()).all()
    reversal = s["init_setl_id"] != ""
    amounts = [c for c in s.columns if c.endswith("_fen")]
    assert (s.loc[~reversal, amounts] >= 0).all().all()
    assert (s.loc[reversal, amounts] <= 0).all().all()
    assert s["time"].min() >= pd.Timestamp("2024-01-01")
    assert s["time"].max() < pd.Timestamp("2025-01-01")
    begn = pd.to_datetime(s["begndate"], format="%Y-%m-%d")
    end = pd.to_datetime(s["enddate"], format="%Y-%m-%d")
    assert (begn <= end).all()
    stays = s["med_type"].isin(["21", "52"])
    assert (begn[stays] < end[stays]).all(), "inpatient stays last at least a night"
    day_visits = s["med_type"].isin(["11", "13", "14", "16", "41", "51"])
    assert (begn[day_visits] == end[day_visits]).all(), "outpatient: same day"
    assert (end[~reversal] == s.loc[~reversal, "time"].dt.normalize()).all()
    assert s["psn_no"].isin(clean["persons"]["psn_no"]).all()
    assert s["fixmedins_code"].isin(clean["institutions"]["fixmedins_code"]).all()
    prac = clean["practitioners"].set_index("dr_codg")
    has_dr = s["dr_codg"] != ""
    assert s.loc[has_dr, "dr_codg"].isin(prac.index).all()
    hospital = s["inst_type"] == "1"
    assert (hospital <= has_dr).all(), "hospital settlements name their doctor"
    works_at = s.loc[hospital, "dr_codg"].map(prac["fixmedins_code"])
    assert (works_at == s.loc[hospital, "fixmedins_code"]).all(), "the doctor works there"
    assert s.loc[~hospital & has_dr, "dr_codg"].str.startswith("D").all(), "prescriber"
    assert set(s.loc[~hospital, "med_type"]) == {"41"}
    assert (s.loc[s["med_type"] == "41", "inst_type"] == "2").all()


def test_fee_details_sum_to_their_settlement(clean: SynthSet, settlements: pd.DataFrame) -> None:
    f = clean["fee_details"]
    assert f["feedetl_sn"].is_unique
    assert f["setl_id"].isin(settlements["setl_id"]).all()
    assert (f["feedetl_sn"].str[:-2] == f["setl_id"]).all()
    assert f["feedetl_sn"].str[-2:].str.isdigit().all()
    cnt = f["cnt"].astype("int64")
    assert (cnt * fen(f["pric"]) == fen(f["det_item_fee_sumamt"])).all(), "amount = cnt * pric"
    assert (fen(f["pric"]) > 0).all()
    total = fen(f["det_item_fee_sumamt"]).groupby(f["setl_id"]).sum()
    medfee = settlements.set_index("setl_id")["medfee_sumamt_fen"]
    assert total.reindex(medfee.index).fillna(0).astype("int64").equals(medfee)
    assert settlements["setl_id"].isin(f["setl_id"]).all(), "no settlement without lines"
    has_dr = f["bilg_dr_codg"] != ""
    assert f.loc[has_dr, "bilg_dr_codg"].isin(clean["practitioners"]["dr_codg"]).all()


def test_trace_codes_one_per_box_and_unique(clean: SynthSet) -> None:
    f = clean["fee_details"]
    drugs = f["med_list_codg"].str[0].isin(["X", "Z"])
    assert (f.loc[~drugs, "drug_trac_codg"] == "").all(), "services carry no trace code"
    assert (f.loc[drugs, "drug_trac_codg"] != "").all()
    n_codes = f["drug_trac_codg"].str.count(";") + 1
    split = {c for s in clean.scenarios("split_pack") for c in s["trace_codes"]}
    is_split = f["drug_trac_codg"].isin(split)
    boxes = f["cnt"].astype(int).abs()
    assert (n_codes[drugs & ~is_split] == boxes[drugs & ~is_split]).all()
    codes = f.loc[drugs, ["setl_id", "drug_trac_codg", "cnt"]].assign(
        code=lambda x: x["drug_trac_codg"].str.split(";")).explode("code")
    assert codes["code"].str.fullmatch(r"\d{20}").all()
    # the first seven digits identify the product: one drug per prefix
    prefix_drugs = f.loc[drugs].assign(p=f["drug_trac_codg"].str[:7]).groupby("p")[
        "med_list_codg"].nunique()
    assert (prefix_drugs == 1).all()
    sold = codes[codes["cnt"].astype(int) > 0]
    repeated = set(sold.loc[sold["code"].duplicated(keep=False), "code"])
    allowed = {c for p in ("resale_chain", "refund_resale", "split_pack")
               for s in clean.scenarios(p) for c in s["trace_codes"]}
    assert repeated <= allowed, "a code settled twice must be a planted reappearance"
    assert repeated, "the planted scenarios make some codes reappear"
    returned = codes[codes["cnt"].astype(int) < 0]
    assert returned["code"].isin(codes.loc[codes["cnt"].astype(int) > 0, "code"]).all()


def test_reversals_cancel_an_earlier_settlement(clean: SynthSet,
                                                settlements: pd.DataFrame) -> None:
    s = settlements.set_index("setl_id")
    rev = s[s["init_setl_id"] != ""]
    assert 0.002 < len(rev) / len(s) < 0.01
    orig = s.loc[rev["init_setl_id"]]
    for col in ("mdtrt_id", "psn_no", "fixmedins_code", "med_type", "begndate", "enddate"):
        assert (orig[col].to_numpy() == rev[col].to_numpy()).all(), col
    for col in ("medfee_sumamt_fen", "fund_pay_sumamt_fen", "hifp_pay_fen", "acct_pay_fen",
                "psn_cash_pay_fen"):
        assert (orig[col].to_numpy() == -rev[col].to_numpy()).all(), col
    assert (orig["time"].to_numpy() < rev["time"].to_numpy()).all()
    assert rev["init_setl_id"].is_unique
    mdtrt = settlements.groupby("mdtrt_id").size()
    assert mdtrt.max() <= 2
    assert (mdtrt == 2).sum() == len(rev), "only a reversal shares its original's visit"
    f = clean["fee_details"]
    lines = f.set_index("setl_id")
    for r, o in zip(rev.index[:50], rev["init_setl_id"][:50], strict=True):
        a = lines.loc[[o]].reset_index(drop=True)
        b = lines.loc[[r]].reset_index(drop=True)
        assert (a["cnt"].astype(int) == -b["cnt"].astype(int)).all()
        assert (fen(a["det_item_fee_sumamt"]) == -fen(b["det_item_fee_sumamt"])).all()
        assert (a["drug_trac_codg"] == b["drug_trac_codg"]).all()
        assert (a["med_list_codg"] == b["med_list_codg"]).all()


def test_setl_ids_do_not_reveal_planted_rows(clean: SynthSet,
                                             settlements: pd.DataFrame) -> None:
    planted = {i for s in clean.truth["scenarios"] for i in s["setl_ids"]}
    ids = settlements["setl_id"]
    assert ids.str.len().nunique() == 1
    flag = ids.isin(planted).to_numpy()
    # the planted rows are spread over the id space and the file, not gathered at one end
    order = np.argsort(ids.to_numpy())
    ranks = np.flatnonzero(flag[order]) / len(ids)
    assert 0.3 < ranks.mean() < 0.7
    positions = np.flatnonzero(flag) / len(ids)
    assert 0.2 < positions.mean() < 0.8
