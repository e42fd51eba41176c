"""The rule base: loading and checking it, and every rule on hand-built cases.

One tiny store holds a case per rule at and just past each threshold (built in
``_tiny_store``: exact distances on one meridian, exact times), loaded through the real loader.
A slow test plants the synthetic scenarios at 60k settlements and checks the rules find the
fraud and spare the honest look-alikes.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _tiny_store import (
    BASE_LAT,
    BASE_LON,
    T0,
    Line,
    TinyStore,
    add_trace_cases,
    north_of_base,
)

from graph import rules as rules_module
from graph.rules import (
    HIT_COLUMNS,
    RULE_IDS,
    TRACE_CLASSES,
    Rule,
    load_rulebase,
    run_rules,
)
from loaders.store import Store, open_store
from yibao.errors import SettingsError, StoreError

CONSULT = Line(item="001102000010000", name="普通门诊诊查费", pric=20.0)
BED = Line(item="110900001", name="床位费", pric=50.0)
DIALYSIS = Line(item="311201001", name="血液透析", pric=420.0)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class World:
    store: Store
    codes: dict[str, str]
    run: Any
    progress: list[str]


def _add_travel(ts: TinyStore) -> None:
    ha = ts.institution("H34120000101", lon=BASE_LON, lat=BASE_LAT)
    p200 = ts.institution("P34120000102", lon=north_of_base(200)[0], lat=north_of_base(200)[1])
    p99 = ts.institution("P34120000103", lon=north_of_base(99)[0], lat=north_of_base(99)[1])
    p101 = ts.institution("P34120000104", lon=north_of_base(101)[0], lat=north_of_base(101)[1])
    # 200 km in 39 minutes is 307.7 km/h (over 300); in 41 minutes 292.7 km/h (under)
    ts.settle("TRAVEL01", ha, T0, [CONSULT])
    ts.settle("TRAVEL01", p200, T0 + timedelta(minutes=39), [Line()])
    ts.settle("TRAVEL02", ha, T0, [CONSULT])
    ts.settle("TRAVEL02", p200, T0 + timedelta(minutes=41), [Line()])
    # 99 km in one minute is fast but short of min_distance_km; 101 km in 10 minutes is not
    ts.settle("TRAVEL03", ha, T0, [CONSULT])
    ts.settle("TRAVEL03", p99, T0 + timedelta(minutes=1), [Line()])
    ts.settle("TRAVEL04", ha, T0, [CONSULT])
    ts.settle("TRAVEL04", p101, T0 + timedelta(minutes=10), [Line()])
    # a reversal posted at the far pharmacy 10 minutes before a visit at home is no trip
    bought = ts.settle("TRAVEL05", p200, T0 - timedelta(hours=2), [Line()])
    ts.reverse(bought, T0 + timedelta(minutes=20))
    ts.settle("TRAVEL05", ha, T0 + timedelta(minutes=30), [CONSULT])


def _stay(ts: TinyStore, psn: str, inst: str, begn: str, end: str) -> str:
    return ts.settle(psn, inst, datetime.fromisoformat(f"{end} 10:00:00"),
                     [dataclasses.replace(BED, cnt=5)], med_type="21", begn=begn, end=end)


def _add_stays(ts: TinyStore) -> None:
    h1 = ts.institution("H34120000201")
    h2 = ts.institution("H34120000202")
    _stay(ts, "STAY01", h1, "2024-03-01", "2024-03-10")
    _stay(ts, "STAY01", h2, "2024-03-05", "2024-03-12")  # 5 days shared
    _stay(ts, "STAY02", h1, "2024-03-01", "2024-03-10")
    _stay(ts, "STAY02", h2, "2024-03-10", "2024-03-15")  # a transfer: 0 days shared
    first = _stay(ts, "STAY03", h1, "2024-03-01", "2024-03-10")
    ts.reverse(first, datetime(2024, 3, 11, 9))
    _stay(ts, "STAY03", h2, "2024-03-05", "2024-03-12")  # overlaps a reversed stay only
    _stay(ts, "STAY04", h1, "2024-04-01", "2024-04-10")
    _stay(ts, "STAY04", h1, "2024-04-09", "2024-04-12")  # 1 day shared, same hospital


def _add_pharmacy_days(ts: TinyStore) -> None:
    shops = [ts.institution(f"P34128200{n:03d}", admdvs="341282") for n in range(1, 5)]
    day = datetime(2024, 4, 1, 9)
    for k, shop in enumerate(shops):
        ts.settle("SHOP01", shop, day + k * timedelta(hours=1), [Line()])
    for k, shop in enumerate(shops[:3]):
        ts.settle("SHOP02", shop, day + k * timedelta(hours=1), [Line()])
        ts.settle("SHOP03", shop, day + k * timedelta(hours=1), [Line()])
    ts.settle("SHOP03", shops[3], day + DAY, [Line()])


def _add_doctors(ts: TinyStore) -> None:
    hd = ts.institution("H32058300001", admdvs="320583")

    def prescriptions(dr: str, shop: str, n: int, start: int = 0) -> None:
        for k in range(start, start + n):
            ts.settle(f"PAT{dr[-2:]}{k % 5}", shop, T0 + k * DAY, [Line(dr=dr)])

    def walk_ins(shop: str, n: int) -> None:
        for k in range(n):
            ts.settle(f"WALK{shop[-6:]}{k:03d}", shop, T0 + k * DAY, [Line()])

    for n, (admdvs, dr) in enumerate((("320583", "D32058300011"), ("320585", "D32058500012"),
                                      ("330421", "D33042100013"), ("330482", "D33048200014")),
                                     start=1):
        ts.practitioner(dr, hd)
        top = ts.institution(f"P{admdvs}000{n}1", admdvs=admdvs)
        other = ts.institution(f"P{admdvs}000{n}2", admdvs=admdvs)
        if n == 1:  # 20 of 20 at a pharmacy with no other trade: a hit
            prescriptions(dr, top, 20)
            walk_ins(other, 5)
        elif n == 2:  # 19 prescriptions: one short of min_prescriptions
            prescriptions(dr, top, 19)
            walk_ins(other, 5)
        elif n == 3:  # 9 of 20 (45 %): short of min_share
            prescriptions(dr, top, 9)
            prescriptions(dr, other, 11, start=9)
            walk_ins(other, 5)
        else:  # 20 of 20, but that pharmacy sells 95 % of the area's drugs anyway
            prescriptions(dr, top, 20)
            walk_ins(top, 40)
            walk_ins(other, 2)


def _add_dialysis(ts: TinyStore) -> None:
    hd = ts.institution("H34128200001", admdvs="341282", hosp_lv="10")  # 15 sessions a day
    for k in range(16):
        ts.settle(f"DIAL{k:04d}", hd, datetime(2024, 5, 1, 8) + k * timedelta(minutes=10),
                  [DIALYSIS], med_type="14")
    for k in range(15):
        ts.settle(f"DIAL{k:04d}", hd, datetime(2024, 5, 2, 8) + k * timedelta(minutes=10),
                  [DIALYSIS], med_type="14")
    ts.settle("DIALTWICE", hd, datetime(2024, 5, 3, 9), [DIALYSIS], med_type="14")
    ts.settle("DIALTWICE", hd, datetime(2024, 5, 3, 16), [DIALYSIS], med_type="14")
    ts.settle("DIALONCE", hd, datetime(2024, 5, 4, 9), [DIALYSIS], med_type="14")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    ts = TinyStore()
    codes = add_trace_cases(ts)
    for add in (_add_travel, _add_stays, _add_pharmacy_days, _add_doctors, _add_dialysis):
        add(ts)
    store = ts.load(tmp_path_factory.mktemp("rules"))
    progress: list[str] = []
    run = run_rules(store.con, progress=progress.append)
    yield World(store, codes, run, progress)
    store.close()


def _hits(store: Store, rule_id: str) -> dict[str, dict[str, Any]]:
    """Hits of ``rule_id`` by subject_id (and hit_class for rules with several per subject)."""
    cur = store.con.execute("SELECT * FROM rule_hits WHERE rule_id = ?", [rule_id])
    names = [d[0] for d in cur.description]
    out: dict[str, dict[str, Any]] = {}
    for row in cur.fetchall():
        hit = dict(zip(names, row, strict=True))
        hit["metrics"] = json.loads(hit["metrics"])
        out[hit["subject_id"]] = hit
    return out


# -- the rule base --------------------------------------------------------------------------------


def test_shipped_rulebase_has_every_rule() -> None:
    rules = load_rulebase()
    assert tuple(r.id for r in rules) == RULE_IDS
    assert {r.severity for r in rules} <= {"high", "medium", "low"}
    trace = rules[0]
    assert trace.number("resale_min_gap_days") == 7
    assert trace.class_severity["refund"] == trace.class_severity["split_pack"] == "info"
    dialysis = rules[-1]
    assert dialysis.table("capacity_per_day_by_hosp_lv")["10"] == 15
    assert dialysis.codes("dialysis_item_codes") == ["311201001"]


_BAD_RULEBASE = """
version = 1
colour = "red"

[[rules]]
id = "IMPOSSIBLE_TRAVEL"
name_zh = "同日异地"
name_en = "Impossible travel"
severity = "urgent"
description_zh = "x"
description_en = "x"
owner = "me"
[rules.params]
max_speed_kmh = "fast"
min_distance_km = 100
max_hours = 3

[[rules]]
id = "MOON_LANDING"
name_zh = "登月"
name_en = "Moon"
severity = "low"
description_zh = "x"

[[rules]]
id = "TRACE_REUSE"
name_zh = "追溯码"
name_en = "Trace"
severity = "high"
description_zh = "x"
description_en = "x"
[rules.params]
resale_min_gap_days = 7
split_max_price_ratio = 1.5
[rules.class_severity]
resale = "critical"
smuggling = "high"
"""


def test_rulebase_problems_are_collected_and_raised_once(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(_BAD_RULEBASE, encoding="utf-8")
    with pytest.raises(SettingsError, match=r"bad\.toml has 10 problem\(s\)") as info:
        load_rulebase(path)
    message = str(info.value)
    for expected in (
        "unknown top-level key(s) ['colour']",
        "rule IMPOSSIBLE_TRAVEL: unknown key(s) ['owner']",
        "severity 'urgent' is not one of ['high', 'medium', 'low']",
        "unknown parameter(s) ['max_hours']",
        "parameter max_speed_kmh = 'fast' is not a number >= 0",
        "rule MOON_LANDING: missing key(s) ['description_en']",
        "rule MOON_LANDING: no such rule is implemented",
        "split_max_price_ratio = 1.5 is not a number in (0, 1]",
        "class_severity resale = 'critical'",
        "unknown class 'smuggling'",
    ):
        assert expected in message


def test_rulebase_duplicate_ids_and_missing_params(tmp_path: Path) -> None:
    entry = """
[[rules]]
id = "MANY_PHARMACIES_DAY"
name_zh = "多药店"
name_en = "Pharmacies"
severity = "medium"
description_zh = "x"
description_en = "x"
"""
    path = tmp_path / "dup.toml"
    path.write_text(entry + entry, encoding="utf-8")
    with pytest.raises(SettingsError, match="missing parameter") as info:
        load_rulebase(path)
    assert "defined twice" not in str(info.value)  # broken entries are not counted as ids
    path.write_text(entry + "[rules.params]\nmin_pharmacies = 3\n" + entry
                    + "[rules.params]\nmin_pharmacies = 5\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="MANY_PHARMACIES_DAY: defined twice"):
        load_rulebase(path)


def test_rulebase_file_errors(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_rulebase(tmp_path / "none.toml")
    (tmp_path / "broken.toml").write_text("[[rules]\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid UTF-8 TOML"):
        load_rulebase(tmp_path / "broken.toml")
    (tmp_path / "empty.toml").write_text("version = 1\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"no \[\[rules\]\] entries"):
        load_rulebase(tmp_path / "empty.toml")


# -- the run ------------------------------------------------------------------------------------


def test_rule_hits_schema_and_run_summary(world: World) -> None:
    described = world.store.con.execute("DESCRIBE rule_hits").fetchall()
    assert [(r[0], r[1]) for r in described] == list(HIT_COLUMNS)
    assert world.progress == list(RULE_IDS)
    counts = dict(world.store.con.execute(
        "SELECT rule_id, count(*) FROM rule_hits GROUP BY 1").fetchall())
    assert {k: v for k, v in world.run.hits.items() if v} == counts
    assert world.run.n_hits == sum(counts.values())
    assert set(world.run.seconds) == set(RULE_IDS)
    assert world.run.classes["TRACE_REUSE"]["resale"] == 3


def test_hit_ids_are_unique_and_stable(world: World, tmp_path: Path) -> None:
    sql = "SELECT hit_id, evidence_zh, metrics FROM rule_hits ORDER BY hit_id"
    before = world.store.con.execute(sql).fetchall()
    assert len({h for h, _, _ in before}) == len(before)
    assert all(re.fullmatch(r"[A-Z_]+-[0-9a-f]{12}", h) for h, _, _ in before)
    run_rules(world.store.con)
    assert world.store.con.execute(sql).fetchall() == before


def test_every_hit_names_its_evidence(world: World) -> None:
    rows = world.store.con.execute(
        "SELECT rule_id, evidence_zh, evidence_en, setl_ids, first_time, last_time, severity "
        "FROM rule_hits").fetchall()
    for rule_id, zh, en, setl_ids, first, last, severity in rows:
        assert re.search(r"\d", zh), rule_id
        assert re.search(r"\d", en), rule_id
        assert setl_ids
        assert first <= last
        assert severity in ("high", "medium", "low", "info")


# -- TRACE_REUSE ----------------------------------------------------------------------------------

_EXPECTED_CLASS = {
    "resale": "resale",
    "resale_at_threshold": "resale",
    "three_hops": "resale",
    "counterfeit": "counterfeit",
    "counterfeit_below_threshold": "counterfeit",
    "item_substitution": "item_substitution",
    "not_split": "item_substitution",
    "late_reversal": "item_substitution",
    "split_pack": "split_pack",
    "split_fraction": "split_pack",
    "refund": "refund",
}


def test_trace_codes_are_classed(world: World) -> None:
    hits = _hits(world.store, "TRACE_REUSE")
    found = {name: hits[code]["hit_class"] for name, code in world.codes.items() if code in hits}
    assert found == _EXPECTED_CLASS
    assert set(found.values()) == set(TRACE_CLASSES)


def test_trace_severity_follows_class(world: World) -> None:
    hits = _hits(world.store, "TRACE_REUSE")
    severity = {h["hit_class"]: h["severity"] for h in hits.values()}
    assert severity == {"resale": "high", "counterfeit": "high", "item_substitution": "medium",
                        "refund": "info", "split_pack": "info"}


def test_resale_evidence_and_money(world: World) -> None:
    code = world.codes["resale"]
    hit = _hits(world.store, "TRACE_REUSE")[code]
    assert hit["evidence_zh"] == (
        f"同一追溯码 {code} 于 2024-03-01 在 P34120000001 结算后，29 天后又在 P34120000002"
        "（相距 200 公里）再次结算；共 2 次有效结算，涉及 2 家机构")
    assert "29 days later at P34120000002 (200 km away)" in hit["evidence_en"]
    assert hit["institutions"] == ["P34120000001", "P34120000002"]
    assert hit["trace_codes"] == [code]
    assert hit["subject_kind"] == "trace_code"
    assert hit["fund_amount"] == pytest.approx(10.0)  # two 10-yuan boxes, half from the fund
    assert hit["metrics"]["max_km"] == pytest.approx(200.0)
    assert hit["first_time"] == T0
    assert hit["last_time"] == T0 + 29 * DAY


def test_counterfeit_evidence(world: World) -> None:
    hit = _hits(world.store, "TRACE_REUSE")[world.codes["counterfeit"]]
    assert "仅 2.0 天后又在 P34120000002（相距 200 公里）结算" in hit["evidence_zh"]
    assert "only 2.0 days later" in hit["evidence_en"]
    below = _hits(world.store, "TRACE_REUSE")[world.codes["counterfeit_below_threshold"]]
    assert below["metrics"]["min_gap_days"] == pytest.approx(7 - 1 / 24, abs=0.01)


def test_refund_is_told_apart_and_says_why(world: World) -> None:
    hits = _hits(world.store, "TRACE_REUSE")
    refund = hits[world.codes["refund"]]
    assert "2024-03-02 冲销退货后，2024-03-05 在 P34120000001 再次售出" in refund["evidence_zh"]
    assert "属退货后重新销售" in refund["evidence_zh"]
    assert "refunded (reversed) on 2024-03-02" in refund["evidence_en"]
    assert refund["metrics"]["n_refunded"] == 1
    assert refund["metrics"]["n_effective"] == 1
    assert len(refund["setl_ids"]) == 3  # sale, reversal, sale again
    assert refund["fund_amount"] == pytest.approx(5.0)  # only the sale that stands
    late = hits[world.codes["late_reversal"]]
    assert late["metrics"]["n_refunded"] == 0
    assert late["metrics"]["n_effective"] == 2
    for name in ("reversed_only", "single_sale"):
        assert world.codes[name] not in hits


def test_split_pack_evidence(world: World) -> None:
    hits = _hits(world.store, "TRACE_REUSE")
    split = hits[world.codes["split_pack"]]
    assert "拆零销售 3 次" in split["evidence_zh"]
    assert "单价 0.50 元远低于整盒常见单价 12.00 元" in split["evidence_zh"]
    assert "sold in 3 parts" in split["evidence_en"]
    assert split["metrics"]["total_cnt"] == 12
    fraction = hits[world.codes["split_fraction"]]
    assert fraction["metrics"]["total_cnt"] == 1
    not_split = hits[world.codes["not_split"]]
    assert "单价 10.20 元（该目录常见单价 20.00 元）" in not_split["evidence_zh"]


# -- IMPOSSIBLE_TRAVEL ----------------------------------------------------------------------------


def test_impossible_travel(world: World) -> None:
    hits = _hits(world.store, "IMPOSSIBLE_TRAVEL")
    assert set(hits) == {"TRAVEL01", "TRAVEL04"}
    hit = hits["TRAVEL01"]
    assert hit["evidence_zh"] == (
        "参保人 TRAVEL01 于 2024-03-01 10:00 在 H34120000101 结算，39 分钟后在 P34120000102 "
        "结算，两地相距 200 公里（折合时速约 308 公里）；共 1 次不可能行程")
    assert "39 minutes later at P34120000102, 200 km away (about 308 km/h)" in hit["evidence_en"]
    assert hit["persons"] == ["TRAVEL01"]
    assert hit["institutions"] == ["H34120000101", "P34120000102"]
    (trip,) = hit["metrics"]["trips"]
    assert trip["km"] == pytest.approx(200.0)
    assert trip["minutes"] == pytest.approx(39.0)
    assert hits["TRAVEL04"]["metrics"]["max_km"] == pytest.approx(101.0)


# -- OVERLAPPING_STAYS ----------------------------------------------------------------------------


def test_overlapping_stays(world: World) -> None:
    hits = _hits(world.store, "OVERLAPPING_STAYS")
    assert set(hits) == {"STAY01", "STAY04"}
    assert hits["STAY01"]["evidence_zh"] == (
        "参保人 STAY01 在 H34120000201 住院（2024-03-01 至 2024-03-10）期间，又在 H34120000202 "
        "住院（2024-03-05 至 2024-03-12），重叠 5 天；共 1 对重叠住院")
    assert hits["STAY01"]["metrics"]["overlap_days"] == 5
    assert "（同一机构）" in hits["STAY04"]["evidence_zh"]
    assert "(the same institution)" in hits["STAY04"]["evidence_en"]
    assert hits["STAY04"]["metrics"]["overlap_days"] == 1
    assert hits["STAY01"]["fund_amount"] == pytest.approx(250.0)


# -- MANY_PHARMACIES_DAY --------------------------------------------------------------------------


def test_many_pharmacies_in_one_day(world: World) -> None:
    hits = _hits(world.store, "MANY_PHARMACIES_DAY")
    assert set(hits) == {"SHOP01"}
    hit = hits["SHOP01"]
    assert hit["evidence_zh"] == (
        "参保人 SHOP01 于 2024-04-01 一天内在 4 家药店结算 4 次（09:00–12:00），"
        "医疗费合计 40.00 元")
    assert hit["metrics"]["n_pharmacies"] == 4
    assert len(hit["institutions"]) == 4


# -- DOCTOR_PHARMACY_CONCENTRATION ----------------------------------------------------------------


def test_doctor_pharmacy_concentration(world: World) -> None:
    hits = _hits(world.store, "DOCTOR_PHARMACY_CONCENTRATION")
    assert set(hits) == {"D32058300011"}
    hit = hits["D32058300011"]
    assert hit["subject_kind"] == "practitioner"
    assert hit["practitioners"] == ["D32058300011"]
    assert hit["institutions"] == ["H32058300001", "P32058300011"]
    assert len(hit["persons"]) == 5
    assert len(hit["setl_ids"]) == 20
    assert "20 张处方中 20 张（100%）集中在药店 P32058300011" in hit["evidence_zh"]
    assert "20 of 20 prescriptions" in hit["evidence_en"]
    assert hit["metrics"]["market_share"] == 0
    assert hit["metrics"]["share"] == 1


# -- DIALYSIS_CAPACITY ----------------------------------------------------------------------------


def test_dialysis_capacity(world: World) -> None:
    hits = _hits(world.store, "DIALYSIS_CAPACITY")
    assert set(hits) == {"H34128200001", "DIALTWICE"}
    over = hits["H34128200001"]
    assert over["hit_class"] == "over_capacity"
    assert over["subject_kind"] == "institution"
    assert over["metrics"]["n_days"] == 1
    assert over["metrics"]["max_sessions"] == 16
    assert "日透析能力约 15 人次）在 1 天超负荷" in over["evidence_zh"]
    assert "最多一天（2024-05-01）16 人次" in over["evidence_zh"]
    twice = hits["DIALTWICE"]
    assert twice["hit_class"] == "double_session"
    assert twice["severity"] == "high"
    assert "2 on 2024-05-03" in twice["evidence_en"]


# -- thresholds come from the rule base -----------------------------------------------------------


def _trace_only(tmp_path: Path) -> tuple[Store, dict[str, str]]:
    ts = TinyStore()
    codes = add_trace_cases(ts)
    return ts.load(tmp_path), codes


def test_thresholds_are_read_from_the_rules(tmp_path: Path) -> None:
    store, codes = _trace_only(tmp_path)
    with store:
        trace = load_rulebase()[0]
        slow = dataclasses.replace(trace, params={**trace.params, "resale_min_gap_days": 30.0})
        run = run_rules(store.con, [slow])
        assert dict(run.hits) == {"TRACE_REUSE": 11}
        hits = _hits(store, "TRACE_REUSE")
        assert hits[codes["resale"]]["hit_class"] == "counterfeit"  # 29 days < 30
        assert hits[codes["three_hops"]]["hit_class"] == "resale"  # 31 and 30 days
        run = run_rules(store.con, [dataclasses.replace(trace, enabled=False)])
        assert run.n_hits == 0
        assert store.con.execute("SELECT count(*) FROM rule_hits").fetchone() == (0,)


def test_failed_run_leaves_previous_hits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, _ = _trace_only(tmp_path)
    with store:
        run_rules(store.con)
        before = store.con.execute("SELECT hit_id FROM rule_hits ORDER BY 1").fetchall()

        def broken(con: Any, rule: Rule) -> None:
            raise RuntimeError("boom")

        monkeypatch.setitem(rules_module._IMPLEMENTATIONS, "DIALYSIS_CAPACITY", broken)
        with pytest.raises(RuntimeError, match="boom"):
            run_rules(store.con)
        assert store.con.execute("SELECT hit_id FROM rule_hits ORDER BY 1").fetchall() == before


def test_unknown_rule_is_refused(tmp_path: Path) -> None:
    store, _ = _trace_only(tmp_path)
    with store:
        fake = dataclasses.replace(load_rulebase()[0], id="NOPE")
        with pytest.raises(SettingsError, match="no implementation for rule"):
            run_rules(store.con, [fake])


def test_runs_inside_the_callers_transaction(tmp_path: Path) -> None:
    store, _ = _trace_only(tmp_path)
    with store:
        store.con.execute("BEGIN TRANSACTION")
        run = run_rules(store.con)
        assert store.con.execute("SELECT count(*) FROM rule_hits").fetchone() == (run.n_hits,)
        store.con.execute("ROLLBACK")
        tables = store.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'rule_hits'"
        ).fetchone()
        assert tables == (0,)


def test_read_only_store_is_refused(tmp_path: Path) -> None:
    store, _ = _trace_only(tmp_path)
    store.close()
    with open_store(store.path, read_only=True) as ro, pytest.raises(
            StoreError, match="open it with read_only=False"):
        run_rules(ro.con)
