"""The real export formats: their shapes and shares, their meaning, and that switching one
changes its own columns and nothing else (:class:`~yibao.synth.formats.ExportFormats`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from synth_helpers import SCALE, SEED, TABLES, SynthSet, icd_core, level_class, read_text_csv

from yibao.errors import SynthError
from yibao.synth import ExportFormats, synthesize
from yibao.synth._code_tables import (
    DEPARTMENT_OF_DIAGNOSIS,
    DEPARTMENTS,
    HOSP_LV_LABELS,
    HOSP_LV_SHORT,
    ICD_PATTERN,
    LEGACY_STAFF_PATTERN,
    NATIONAL_STAFF_PATTERN,
    STAFF_TYPES,
    TCM_DIAGNOSES,
    TCM_PATTERN,
)

_OPERATOR_COLUMNS = ["opter_id", "opter_name", "dept_codg", "dept_name"]


def test_formats_default_legacy_and_parse() -> None:
    real = ExportFormats()
    assert (real.staff_codes, real.hosp_lv, real.icd_extensions, real.tcm_codes,
            real.operators) == ("national", "mixed", True, True, True)
    assert ExportFormats.real() == real
    old = ExportFormats.legacy()
    assert (old.staff_codes, old.hosp_lv, old.icd_extensions, old.tcm_codes,
            old.operators) == ("legacy", "codes", False, False, False)
    assert ExportFormats.parse("real") == real
    assert ExportFormats.parse("") == real
    assert ExportFormats.parse(" legacy ") == old
    mixed = ExportFormats.parse("legacy, staff_codes=national, operators=YES")
    assert mixed == ExportFormats("national", "codes", False, False, True)
    assert ExportFormats.parse("operators=no").operators is False
    for formats in (real, old, mixed, ExportFormats.parse("real,tcm_codes=off")):
        assert ExportFormats.parse(formats.spec) == formats
    assert real.spec == "real"
    assert old.spec == "legacy"
    assert mixed.spec == "legacy,staff_codes=national,operators=yes"


@pytest.mark.parametrize(("text", "message"), [
    ("modern", r"unknown export format 'modern': start with 'real' or 'legacy'"),
    ("legacy,colour=red", r"setting 'colour=red'.*staff_codes, hosp_lv"),
    ("real,operators", r"setting 'operators'.*NAME=VALUE"),
    ("real,operators=maybe", r"operators='maybe' must be yes or no"),
    ("real,staff_codes=local", r"staff_codes='local' \(choose national or legacy\)"),
])
def test_bad_formats_say_how_to_fix(text: str, message: str) -> None:
    with pytest.raises(SynthError, match=message):
        ExportFormats.parse(text)


def test_synthesize_refuses_formats_that_are_not_export_formats(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match=r"ExportFormats.parse\('real'\)"):
        synthesize(tmp_path, scale=SCALE, seed=1, formats="legacy")  # type: ignore[arg-type]


def test_cli_formats_option(tmp_path: Path) -> None:
    from yibao.cli import cli

    out = CliRunner().invoke(cli, ["synth", str(tmp_path / "s"), "--scale", str(SCALE),
                                   "--formats", "legacy,staff_codes=national", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["rows"]["settlements"] == SCALE
    prac = read_text_csv(tmp_path / "s" / "practitioners.csv")
    assert prac["dr_codg"].str.fullmatch(NATIONAL_STAFF_PATTERN).mean() > 0.85
    setl = read_text_csv(tmp_path / "s" / "settlements.csv")
    assert "opter_id" not in setl.columns
    bad = CliRunner().invoke(cli, ["synth", str(tmp_path / "t"), "--formats", "new"])
    assert bad.exit_code == 2
    assert "Invalid value for '--formats'" in bad.output
    assert not (tmp_path / "t").exists()


def test_real_levels_mix_codes_full_and_short_labels(clean: SynthSet, legacy: SynthSet) -> None:
    inst = clean["institutions"]
    codes = legacy["institutions"].set_index("fixmedins_code")["hosp_lv"]
    code = inst["fixmedins_code"].map(codes)
    pharmacy = inst["fixmedins_type"] == "2"
    hospital = inst[~pharmacy]
    form = np.select(
        [hospital["hosp_lv"].isin(HOSP_LV_LABELS), hospital["hosp_lv"].isin(
            HOSP_LV_LABELS.values()), hospital["hosp_lv"].isin(HOSP_LV_SHORT.values())],
        ["code", "full", "short"], "other")
    shares = pd.Series(form).value_counts(normalize=True)
    assert set(shares.index) == {"code", "full", "short"}
    assert 0.45 < shares["code"] < 0.65
    assert 0.15 < shares["full"] < 0.35
    assert 0.1 < shares["short"] < 0.3
    # each form says the institution's own level (the short one without its grade)
    h_code = code[~pharmacy]
    lv = hospital["hosp_lv"]
    assert (lv[form == "code"] == h_code[form == "code"]).all()
    assert (lv[form == "full"] == h_code[form == "full"].map(HOSP_LV_LABELS)).all()
    assert (lv[form == "short"] == h_code[form == "short"].map(HOSP_LV_SHORT)).all()
    assert (level_class(lv) == level_class(h_code)).all()
    shop = inst.loc[pharmacy, "hosp_lv"].value_counts(normalize=True)
    assert set(shop.index) == {"", "11", "无等级"}
    assert shop[""] > 0.5
    top = inst[level_class(inst["hosp_lv"]) == "3"]
    assert top["admdvs"].str[:4].nunique() == 41, "a 三级 hospital in every city"


def test_real_staff_codes(clean: SynthSet, legacy: SynthSet) -> None:
    """13-character D/N/Y and 14-character HY/HJ codes, a few 12-character ones kept; each code
    names its institution's county and its staff type; nurses and technicians never bill."""
    inst = clean["institutions"].set_index("fixmedins_code")
    prac = clean["practitioners"]
    code = prac["dr_codg"]
    assert code.is_unique
    prefix = code.str.extract(r"^([A-Z]+)")[0]
    national = code.str.fullmatch(NATIONAL_STAFF_PATTERN)
    old = code.str.fullmatch(LEGACY_STAFF_PATTERN)
    assert (national | old).all()
    assert (prac["dr_type"] == prefix.map(STAFF_TYPES).astype(str)).all()
    county = code.str[len("D"):].where(prefix.str.len() == 1, code.str[2:]).str[:6]
    assert (county == prac["fixmedins_code"].str[1:7]).all()
    kind = prac["fixmedins_code"].map(inst["fixmedins_type"])
    assert kind.notna().all()
    assert (kind[prefix.isin(["D", "N", "HJ"])] == "1").all(), "doctors, nurses: hospitals"
    assert (kind[prefix == "Y"] == "2").all(), "pharmacists: pharmacies"
    counts = prefix.value_counts()
    assert {"D", "N", "Y", "HY", "HJ"} == set(counts.index)
    assert 0.6 < counts["N"] / counts["D"] < 1.6, "about as many nurses as doctors"
    assert counts["HJ"] < counts["D"] / 4
    assert counts["HY"] < counts["D"] / 2
    doctors_and_pharmacists = prefix.isin(["D", "Y"])
    assert 0.04 < old[doctors_and_pharmacists].mean() < 0.11, "some older 12-character codes"
    assert not old[~doctors_and_pharmacists].any()
    # the same doctors and pharmacists as the legacy set, in a new shape: one to one
    before = legacy["practitioners"]
    assert doctors_and_pharmacists.sum() == len(before)
    same = prac[old]
    assert same["dr_codg"].isin(before["dr_codg"]).all()
    bills = set(clean["settlements"]["dr_codg"]) | set(clean["fee_details"]["bilg_dr_codg"])
    assert not bills & set(code[~doctors_and_pharmacists]), "nurses and technicians never bill"
    assert (code[doctors_and_pharmacists & national].str.len() == 13).all()
    assert (code[prefix.isin(["HY", "HJ"])].str.len() == 14).all()




def _by_setl(a: SynthSet, b: SynthSet) -> tuple[pd.DataFrame, pd.DataFrame]:
    left = a["settlements"].set_index("setl_id")
    right = b["settlements"].set_index("setl_id").loc[left.index]
    return left, right


def test_real_diagnoses(clean: SynthSet, legacy: SynthSet) -> None:
    """ICD-10 医保版 2.0 codes, a share with their extension; TCM codes only at TCM visits; each
    institution writes a diagnosis one way; the code always says the legacy set's diagnosis."""
    real, old = _by_setl(clean, legacy)
    coded = real["dise_codg"] != ""
    assert (coded == (old["dise_codg"] != "")).all()
    code = real.loc[coded, "dise_codg"]
    tcm = code.str.fullmatch(TCM_PATTERN)
    assert (code.str.fullmatch(ICD_PATTERN) | tcm).all()
    extended = code.str.contains(r"x\d{3}$")
    assert 0.25 < extended.mean() < 0.5, "a realistic share with extensions"
    assert (icd_core(code[~tcm]) == old.loc[coded, "dise_codg"][~tcm]).all()
    assert (real.loc[tcm[tcm].index, "med_type"] == "16").all(), "TCM codes at TCM visits"
    means: dict[str, set[str]] = {}
    for icd, ((disease, _), syndromes) in TCM_DIAGNOSES.items():
        for c in (disease, *(s for s, _ in syndromes)):
            means.setdefault(c, set()).add(icd)
    said = old.loc[tcm[tcm].index, "dise_codg"]
    assert all(o in means[c] for c, o in zip(code[tcm], said, strict=True))
    at_tcm = real["med_type"] == "16"
    share = tcm.reindex(real.index, fill_value=False)[at_tcm & coded].mean()
    assert 0.25 < share < 0.8, "a share of TCM visits coded in TCM"
    assert code[tcm].str.count(r"\.").isin([2, 3]).all(), "diseases and syndromes"
    ways = pd.DataFrame({"inst": real.loc[coded, "fixmedins_code"],
                         "dise": old.loc[coded, "dise_codg"], "tcm_visit": at_tcm[coded],
                         "code": code})
    assert (ways.groupby(["inst", "dise", "tcm_visit"])["code"].nunique() == 1).all()


def test_real_departments(clean: SynthSet, legacy: SynthSet) -> None:
    s = clean["settlements"]
    inst = legacy["institutions"].set_index("fixmedins_code")
    pharmacy = s["fixmedins_code"].str.startswith("P")
    assert (s.loc[pharmacy, ["dept_codg", "dept_name"]] == "").all().all()
    assert (s.loc[~pharmacy, ["dept_codg", "dept_name"]] != "").all().all()
    pairs = set(zip(s.loc[~pharmacy, "dept_codg"], s.loc[~pharmacy, "dept_name"], strict=True))
    assert pairs <= set(DEPARTMENTS)
    level = s["fixmedins_code"].map(inst["hosp_lv"])
    tertiary = level.isin(["02", "03"])
    primary_care = level.isin(["08", "09", "10", "11"])
    mt = s["med_type"]
    assert (s.loc[mt == "16", "dept_name"] == "中医科").all()
    assert (s.loc[mt.isin(["51", "52"]), "dept_name"] == "产科").all()
    assert (s.loc[(mt == "13") & ~primary_care, "dept_name"] == "急诊科").all()
    general = (mt.isin(["11", "14"])) & primary_care & ~s["setl_id"].isin(
        [i for x in clean.scenarios("dialysis_cohort") for i in x["setl_ids"]])
    assert (s.loc[general, "dept_name"] == "全科医疗科").all()
    persons = legacy["persons"].set_index("psn_no")
    age = (pd.Timestamp("2024-07-01") - pd.to_datetime(s["psn_no"].map(persons["brdy"]))
           ).dt.days / 365.25
    adult_visit = tertiary & mt.isin(["11", "14", "21"]) & (age >= 15)
    rows = s[adult_visit & ~s["setl_id"].isin({i for x in clean.truth["scenarios"]
                                                for i in x["setl_ids"]})]
    dise = icd_core(rows["dise_codg"].where(rows["dise_codg"] != "", "R50.900"))
    assert (rows["dept_name"] == dise.map(DEPARTMENT_OF_DIAGNOSIS)).all(), "by the diagnosis"
    for x in clean.scenarios("dialysis_cohort"):
        assert (s.loc[s["setl_id"].isin(x["setl_ids"]), "dept_name"] == "血液透析室").all()
    for x in clean.scenarios("recruited_inpatients"):
        assert (s.loc[s["setl_id"].isin(x["setl_ids"]), "dept_name"] == "康复医学科").all()


def test_real_operators_work_shifts_and_rings_have_one(clean: SynthSet) -> None:
    s = clean["settlements"]
    assert (s[["opter_id", "opter_name"]] != "").all().all()
    assert s["opter_id"].str.fullmatch(r"\d{8}").all()
    assert (s.groupby("opter_id")["fixmedins_code"].nunique() == 1).all(), "one employer"
    assert (s.groupby("opter_id")["opter_name"].nunique() == 1).all()
    per_inst = s.groupby("fixmedins_code")["opter_id"].nunique()
    shops = per_inst[per_inst.index.str.startswith("P")]
    assert shops.max() <= 4
    assert per_inst[per_inst.index.str.startswith("H")].max() > 4, "hospitals have more"
    truth = clean.truth["scenarios"]
    ring_rows: set[str] = set()
    for x in truth:
        if x["pattern"] in ("card_pooling", "doctor_pharmacy_collusion",
                            "cross_province_card_use"):
            assert x["operators"], x["pattern"]
            rows = s[s["setl_id"].isin(x["setl_ids"])]
            keyed = rows[rows["fixmedins_code"].str.startswith("P")
                         & rows["opter_id"].isin(x["operators"])]
            at = rows[rows["fixmedins_code"].isin(keyed["fixmedins_code"])]
            assert len(x["operators"]) == at["fixmedins_code"].nunique()
            assert (at.groupby("fixmedins_code")["opter_id"].nunique() == 1).all()
            ring_rows |= set(at["setl_id"])
        else:
            assert x["operators"] == []
    card = clean.scenarios("card_pooling")[0]
    rows = s[s["setl_id"].isin(card["setl_ids"])]
    assert rows["opter_id"].nunique() == 1, "one operator swipes every pooled card"
    assert rows["setl_time"].str[:10].nunique() >= 3, "on several days, whoever is on duty"
    # everyone else, honest look-alikes included, is keyed by the pharmacy's operator on duty:
    # one person per shift (the day is cut at 15:00)
    shop = s[s["fixmedins_code"].str.startswith("P") & ~s["setl_id"].isin(ring_rows)]
    shift = shop["setl_time"].str[:10] + (shop["setl_time"].str[11:13] >= "15").map(
        {True: "L", False: "E"})
    assert (shop.groupby([shop["fixmedins_code"], shift])["opter_id"].nunique() == 1).all()
    honest = {i for x in truth if x["kind"] == "honest" for i in x["setl_ids"]}
    assert shop["setl_id"].isin(honest).sum() > 20, "the rule was checked on honest groups"


_GOVERNED: dict[str, dict[str, list[str]]] = {
    "staff_codes=national": {"practitioners": ["*"], "settlements": ["dr_codg"],
                             "fee_details": ["bilg_dr_codg"], "truth.json": ["practitioners"]},
    "hosp_lv=mixed": {"institutions": ["hosp_lv"]},
    "icd_extensions=yes": {"settlements": ["dise_codg"]},
    "tcm_codes=yes": {"settlements": ["dise_codg"]},
    "operators=yes": {"settlements": _OPERATOR_COLUMNS, "truth.json": ["operators"]},
}
"""What each single change from the legacy formats may change: files, columns, truth keys."""


def _compare(a: pd.DataFrame, b: pd.DataFrame, governed: list[str]) -> None:
    assert len(a) == len(b)
    extra = [c for c in b.columns if c not in a.columns]
    assert extra == [c for c in governed if c not in a.columns]
    same = [c for c in a.columns if c not in governed]
    assert a[same].equals(b[same])


@pytest.mark.parametrize("change", list(_GOVERNED))
def test_one_format_changes_its_own_columns_only(change: str, legacy: SynthSet,
                                                 tmp_path: Path) -> None:
    synthesize(tmp_path, scale=SCALE, seed=SEED, formats=ExportFormats.parse(f"legacy,{change}"))
    governed = _GOVERNED[change]
    for name in (*(f"{t}.csv" for t in TABLES), "truth.json"):
        table = name.rsplit(".", 1)[0]
        if name not in governed and table not in governed:
            assert (tmp_path / name).read_bytes() == (legacy.folder / name).read_bytes(), name
    new = {t: read_text_csv(tmp_path / f"{t}.csv") for t in TABLES}
    for table, columns in governed.items():
        if table in TABLES and columns != ["*"]:
            _compare(legacy[table], new[table], columns)
            changed = (legacy[table][columns[0]] != new[table][columns[0]]).mean() if \
                columns[0] in legacy[table] else 1.0
            assert changed > 0, f"{change} changed {table}.{columns[0]}"
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    keys = governed.get("truth.json", [])
    for before, after in zip(legacy.truth["scenarios"], truth["scenarios"], strict=True):
        assert {k: v for k, v in before.items() if k not in keys} == {
            k: v for k, v in after.items() if k not in keys}
    if change == "staff_codes=national":
        _staff_codes_map_one_to_one(legacy, new, truth)


def _staff_codes_map_one_to_one(legacy: SynthSet, new: dict[str, pd.DataFrame],
                                truth: dict[str, Any]) -> None:
    pairs = pd.concat([
        pd.DataFrame({"old": legacy["settlements"]["dr_codg"],
                      "new": new["settlements"]["dr_codg"]}),
        pd.DataFrame({"old": legacy["fee_details"]["bilg_dr_codg"],
                      "new": new["fee_details"]["bilg_dr_codg"]}),
    ]).drop_duplicates()
    assert ((pairs["old"] == "") == (pairs["new"] == "")).all()
    assert pairs["old"].is_unique, "one code per practitioner"
    assert pairs["new"].is_unique
    mapping = dict(zip(pairs["old"], pairs["new"], strict=True))
    assert set(mapping.values()) - {""} <= set(new["practitioners"]["dr_codg"])
    for before, after in zip(legacy.truth["scenarios"], truth["scenarios"], strict=True):
        assert [mapping.get(c, c) for c in before["practitioners"]] == after["practitioners"]
    prac = new["practitioners"].set_index("dr_codg")
    old = legacy["practitioners"].set_index("dr_codg")
    kept = [c for c in old.index if c in mapping]
    assert (prac.loc[[mapping[c] for c in kept], ["dr_name", "fixmedins_code", "dr_type"]]
            .to_numpy() == old.loc[kept, ["dr_name", "fixmedins_code", "dr_type"]].to_numpy()
            ).all()


def test_real_set_is_the_legacy_set_in_other_shapes(clean: SynthSet, legacy: SynthSet) -> None:
    for table in ("persons",):
        assert clean[table].equals(legacy[table])
    _compare(legacy["institutions"], clean["institutions"], ["hosp_lv"])
    _compare(legacy["settlements"], clean["settlements"],
             ["dise_codg", "dr_codg", *_OPERATOR_COLUMNS])
    _compare(legacy["fee_details"], clean["fee_details"], ["bilg_dr_codg"])
    keys = ("practitioners", "operators")
    for before, after in zip(legacy.truth["scenarios"], clean.truth["scenarios"], strict=True):
        assert {k: v for k, v in before.items() if k not in keys} == {
            k: v for k, v in after.items() if k not in keys}
        assert len(before["practitioners"]) == len(after["practitioners"])
