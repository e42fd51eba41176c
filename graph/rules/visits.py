"""The rules on visits and prescriptions: impossible travel, overlapping stays, many
pharmacies a day, a doctor's prescriptions concentrated at one pharmacy, dialysis over
capacity."""

from __future__ import annotations

import duckdb

from graph.claims import pharmacy_sql
from graph.rules.rulebase import Rule
from graph.rules.sqltools import run_sql
from yibao.geo import haversine_km_sql


def impossible_travel(con: duckdb.DuckDBPyConnection, rule: Rule) -> None:
    params = {"max_speed": rule.number("max_speed_kmh"),
              "min_km": rule.number("min_distance_km")}
    trip = ("{'from_setl_id': from_setl, 'to_setl_id': to_setl, 'from_inst': from_inst, "
            "'to_inst': to_inst, 'from_time': from_time, 'to_time': to_time, "
            "'km': round(km, 1), 'minutes': round(minutes, 1), "
            "'speed_kmh': round(km * 60 / greatest(minutes, 1), 0)}")
    run_sql(con, f"""CREATE OR REPLACE TEMP TABLE _hits AS
    WITH v AS (
        SELECT s.psn_no, s.setl_id, s.setl_time, s.fixmedins_code, i.lon, i.lat
        FROM _effective s JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
        WHERE i.lon IS NOT NULL AND i.lat IS NOT NULL
    ), legs AS (
        SELECT psn_no, lag(setl_id) OVER w AS from_setl, lag(setl_time) OVER w AS from_time,
               lag(fixmedins_code) OVER w AS from_inst, lag(lon) OVER w AS from_lon,
               lag(lat) OVER w AS from_lat, setl_id AS to_setl, setl_time AS to_time,
               fixmedins_code AS to_inst, lon AS to_lon, lat AS to_lat
        FROM v WINDOW w AS (PARTITION BY psn_no ORDER BY setl_time, setl_id)
    ), trips AS (
        SELECT *, {haversine_km_sql("from_lon", "from_lat", "to_lon", "to_lat")} AS km,
               epoch(to_time - from_time) / 60.0 AS minutes
        FROM legs WHERE from_inst IS NOT NULL AND from_inst <> to_inst
    ), bad AS (
        SELECT * FROM trips WHERE km >= $min_km AND km > $max_speed * minutes / 60.0
    ), per AS (
        SELECT psn_no, count(*) AS n_trips, max(km) AS max_km, min(minutes) AS min_minutes,
               arg_min({trip}, {{'t': from_time, 's': to_setl}}) AS first,
               list({trip} ORDER BY from_time, to_setl) AS trips,
               list_sort(list_distinct(flatten(list([from_inst, to_inst])))) AS institutions,
               list_sort(list_distinct(flatten(list([from_setl, to_setl])))) AS setl_ids
        FROM bad GROUP BY psn_no
    )
    SELECT [psn_no] AS hit_keys, NULL::VARCHAR AS hit_class, 'person' AS subject_kind,
           psn_no AS subject_id, [psn_no] AS persons, institutions,
           []::VARCHAR[] AS practitioners, setl_ids, []::VARCHAR[] AS trace_codes,
           format('参保人 {{}} 于 {{}} 在 {{}} 结算，{{:.0f}} 分钟后在 {{}} 结算，'
                  '两地相距 {{:.0f}} 公里（折合时速约 {{:.0f}} 公里）；共 {{}} 次不可能行程',
                  psn_no,
                  strftime(first.from_time, '%Y-%m-%d %H:%M'), first.from_inst,
                  first.minutes, first.to_inst, first.km, first.speed_kmh, n_trips)
               AS evidence_zh,
           format('Insured person {{}} settled at {{}} on {{}} and {{:.0f}} minutes later at {{}}, '
                  '{{:.0f}} km away (about {{:.0f}} km/h); {{}} impossible trips in all', psn_no,
                  first.from_inst, strftime(first.from_time, '%Y-%m-%d %H:%M'), first.minutes,
                  first.to_inst, first.km, first.speed_kmh, n_trips) AS evidence_en,
           json_object('n_trips', n_trips, 'max_km', round(max_km, 1),
                       'min_minutes', round(min_minutes, 1), 'trips', to_json(trips)) AS metrics
    FROM per""", params)


def overlapping_stays(con: duckdb.DuckDBPyConnection, rule: Rule) -> None:
    params = {"med_types": rule.codes("inpatient_med_types"),
              "min_days": int(rule.number("min_overlap_days"))}
    pair = ("{'first_setl_id': a.setl_id, 'second_setl_id': b.setl_id, "
            "'first_inst': a.fixmedins_code, 'second_inst': b.fixmedins_code, "
            "'first_begin': a.begndate, 'first_end': a.enddate, 'second_begin': b.begndate, "
            "'second_end': b.enddate, "
            "'overlap_days': least(a.enddate, b.enddate) - greatest(a.begndate, b.begndate)}")
    run_sql(con, f"""CREATE OR REPLACE TEMP TABLE _hits AS
    WITH st AS (
        SELECT setl_id, psn_no, fixmedins_code, begndate, enddate FROM _effective
        WHERE med_type IN (SELECT unnest($med_types::VARCHAR[]))
          AND begndate IS NOT NULL AND enddate IS NOT NULL
    ), pairs AS (
        SELECT a.psn_no, {pair} AS p
        FROM st a JOIN st b ON a.psn_no = b.psn_no
         AND (a.begndate < b.begndate OR (a.begndate = b.begndate AND a.setl_id < b.setl_id))
        WHERE b.begndate < a.enddate
          AND least(a.enddate, b.enddate) - greatest(a.begndate, b.begndate) >= $min_days
    ), per AS (
        SELECT psn_no, count(*) AS n_pairs, sum(p.overlap_days) AS overlap_days,
               arg_min(p, {{'b': p.first_begin, 's': p.first_setl_id, 't': p.second_setl_id}})
                   AS first,
               list(p ORDER BY p.first_begin, p.first_setl_id, p.second_setl_id) AS pairs,
               list_sort(list_distinct(flatten(list([p.first_inst, p.second_inst]))))
                   AS institutions,
               list_sort(list_distinct(flatten(list([p.first_setl_id, p.second_setl_id]))))
                   AS setl_ids
        FROM pairs GROUP BY psn_no
    )
    SELECT [psn_no] AS hit_keys, NULL::VARCHAR AS hit_class, 'person' AS subject_kind,
           psn_no AS subject_id, [psn_no] AS persons, institutions,
           []::VARCHAR[] AS practitioners, setl_ids, []::VARCHAR[] AS trace_codes,
           format('参保人 {{}} 在 {{}} 住院（{{}} 至 {{}}）期间，'
                  '又在 {{}}{{}} 住院（{{}} 至 {{}}），重叠 {{}} 天；共 {{}} 对重叠住院',
                  psn_no, first.first_inst,
                  first.first_begin, first.first_end, first.second_inst,
                  CASE WHEN first.first_inst = first.second_inst THEN '（同一机构）' ELSE '' END,
                  first.second_begin, first.second_end, first.overlap_days, n_pairs)
               AS evidence_zh,
           format('Insured person {{}} was an inpatient at {{}} ({{}} to {{}}) and at {{}}{{}} '
                  '({{}} to {{}}), {{}} days overlapping; {{}} overlapping pairs', psn_no,
                  first.first_inst, first.first_begin, first.first_end, first.second_inst,
                  CASE WHEN first.first_inst = first.second_inst THEN ' (the same institution)'
                       ELSE '' END,
                  first.second_begin, first.second_end, first.overlap_days, n_pairs)
               AS evidence_en,
           json_object('n_pairs', n_pairs, 'overlap_days', overlap_days,
                       'pairs', to_json(pairs)) AS metrics
    FROM per""", params)


_PHARMACY = pharmacy_sql()


def many_pharmacies_day(con: duckdb.DuckDBPyConnection, rule: Rule) -> None:
    params = {"min_pharmacies": int(rule.number("min_pharmacies"))}
    run_sql(con, f"""CREATE OR REPLACE TEMP TABLE _hits AS
    WITH ph AS (
        SELECT s.psn_no, s.setl_id, s.setl_time, s.fixmedins_code, s.medfee_sumamt
        FROM _effective s JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
        WHERE {_PHARMACY}
    ), days AS (
        SELECT psn_no, setl_time::DATE AS day, count(DISTINCT fixmedins_code) AS n_pharmacies,
               count(*) AS n_settlements, min(setl_time) AS t0, max(setl_time) AS t1,
               sum(medfee_sumamt)::DOUBLE AS medfee,
               list_sort(list_distinct(list(fixmedins_code))) AS institutions,
               list_sort(list(setl_id)) AS setl_ids
        FROM ph GROUP BY 1, 2 HAVING count(DISTINCT fixmedins_code) >= $min_pharmacies
    )
    SELECT [psn_no, strftime(day, '%Y-%m-%d')] AS hit_keys, NULL::VARCHAR AS hit_class,
           'person' AS subject_kind, psn_no AS subject_id, [psn_no] AS persons, institutions,
           []::VARCHAR[] AS practitioners, setl_ids, []::VARCHAR[] AS trace_codes,
           format('参保人 {{}} 于 {{}} 一天内在 {{}} 家药店结算 {{}} 次（{{}}–{{}}），'
                  '医疗费合计 {{:.2f}} 元',
                  psn_no, strftime(day, '%Y-%m-%d'), n_pharmacies, n_settlements,
                  strftime(t0, '%H:%M'), strftime(t1, '%H:%M'), medfee) AS evidence_zh,
           format('Insured person {{}} settled {{}} times at {{}} pharmacies on {{}} ({{}}-{{}}), '
                  '{{:.2f}} yuan in all', psn_no, n_settlements, n_pharmacies,
                  strftime(day, '%Y-%m-%d'), strftime(t0, '%H:%M'), strftime(t1, '%H:%M'),
                  medfee) AS evidence_en,
           json_object('day', strftime(day, '%Y-%m-%d'), 'n_pharmacies', n_pharmacies,
                       'n_settlements', n_settlements, 'medfee_yuan', round(medfee, 2))
               AS metrics
    FROM days""", params)


PHARMACY_MARKET_SELECT = f"""
    SELECT s.fixmedins_code AS pharmacy, i.admdvs, count(*) AS n
    FROM _effective s JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
    WHERE {_PHARMACY}
    GROUP BY 1, 2"""
"""Effective pharmacy settlements per pharmacy (and its division): the market the
doctor-pharmacy rule compares a doctor's share with. Plain SQL that Spark runs as it is; a
partitioned run hands the whole table in (a ``_pharmacy_market`` already there is kept)."""

PHARMACY_MARKET_SQL = "CREATE TEMP TABLE IF NOT EXISTS _pharmacy_market AS " + \
    PHARMACY_MARKET_SELECT


def doctor_pharmacy(con: duckdb.DuckDBPyConnection, rule: Rule) -> None:
    params = {"min_rx": int(rule.number("min_prescriptions")),
              "min_share": rule.number("min_share"), "min_lift": rule.number("min_lift")}
    con.execute(PHARMACY_MARKET_SQL)
    run_sql(con, f"""CREATE OR REPLACE TEMP TABLE _hits AS
    WITH ph AS (
        SELECT s.setl_id, s.psn_no, s.fixmedins_code, i.admdvs
        FROM _effective s JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
        WHERE {_PHARMACY}
    ), rx AS (
        SELECT DISTINCT f.bilg_dr_codg AS dr, p.setl_id, p.fixmedins_code AS pharmacy,
               p.admdvs, p.psn_no
        FROM fee_details f JOIN ph p ON p.setl_id = f.setl_id
        WHERE f.bilg_dr_codg LIKE 'D%'
    ), market AS (
        SELECT pharmacy, sum(n) AS n FROM _pharmacy_market GROUP BY 1
    ), area AS (
        SELECT admdvs, sum(n) AS n FROM _pharmacy_market GROUP BY 1
    ), per_pharmacy AS (
        SELECT dr, pharmacy, admdvs, count(*) AS n FROM rx GROUP BY ALL
    ), per_doctor AS (
        SELECT dr, sum(n) AS total, count(*) AS n_pharmacies,
               arg_max(pharmacy, {{'n': n, 'p': pharmacy}}) AS top_pharmacy,
               arg_max(admdvs, {{'n': n, 'p': pharmacy}}) AS top_admdvs,
               max(n) AS top_n
        FROM per_pharmacy GROUP BY dr
        HAVING sum(n) >= $min_rx AND max(n) >= $min_share * sum(n)
    ), scored AS (
        -- the pharmacy's share of its division's pharmacy settlements, without this doctor's
        SELECT d.*, (m.n - d.top_n) / nullif(a.n - (
                   SELECT sum(pp.n) FROM per_pharmacy pp
                   WHERE pp.dr = d.dr AND pp.admdvs = d.top_admdvs), 0) AS market_share
        FROM per_doctor d JOIN market m ON m.pharmacy = d.top_pharmacy
        JOIN area a ON a.admdvs = d.top_admdvs
    ), top AS (
        SELECT d.dr, d.total, d.n_pharmacies, d.top_pharmacy, d.top_n, d.market_share,
               list_sort(list_distinct(list(r.psn_no))) AS persons,
               list_sort(list(r.setl_id)) AS setl_ids
        FROM scored d JOIN rx r ON r.dr = d.dr AND r.pharmacy = d.top_pharmacy
        WHERE d.top_n >= $min_lift * d.market_share * d.total
        GROUP BY ALL
    )
    SELECT [t.dr, t.top_pharmacy] AS hit_keys, NULL::VARCHAR AS hit_class,
           'practitioner' AS subject_kind, t.dr AS subject_id, t.persons,
           list_sort(list_distinct([t.top_pharmacy, p.fixmedins_code])) AS institutions,
           [t.dr] AS practitioners, t.setl_ids, []::VARCHAR[] AS trace_codes,
           format('医师 {{}}（所属 {{}}）在药店结算的 {{}} 张处方中 {{}} 张（{{:.0f}}%）'
                  '集中在药店 {{}}，而该药店在当地药店结算中仅占 {{:.0f}}%；涉及 {{}} 名参保人',
                  t.dr,
                  coalesce(p.fixmedins_code, '机构未知'), t.total, t.top_n,
                  100.0 * t.top_n / t.total, t.top_pharmacy, 100.0 * t.market_share,
                  len(t.persons)) AS evidence_zh,
           format('Doctor {{}} (of {{}}): {{}} of {{}} prescriptions settled at pharmacies '
                  '({{:.0f}}%) went to pharmacy {{}}, which has {{:.0f}}% of the local pharmacy '
                  'settlements; {{}} patients', t.dr,
                  coalesce(p.fixmedins_code, 'unknown institution'), t.top_n, t.total,
                  100.0 * t.top_n / t.total, t.top_pharmacy, 100.0 * t.market_share,
                  len(t.persons)) AS evidence_en,
           json_object('prescriptions', t.total, 'at_top_pharmacy', t.top_n,
                       'share', round(t.top_n / t.total, 3),
                       'market_share', round(t.market_share, 3),
                       'lift', round(t.top_n / t.total / nullif(t.market_share, 0), 1),
                       'n_pharmacies', t.n_pharmacies, 'n_patients', len(t.persons),
                       'top_pharmacy', t.top_pharmacy,
                       'doctor_institution', p.fixmedins_code) AS metrics
    FROM top t LEFT JOIN practitioners p ON p.dr_codg = t.dr""", params)


def dialysis_capacity(con: duckdb.DuckDBPyConnection, rule: Rule) -> None:
    table = rule.table("capacity_per_day_by_hosp_lv")
    params = {"codes": rule.codes("dialysis_item_codes"), "levels": list(table),
              "caps": list(table.values()),
              "default_cap": int(rule.number("capacity_per_day_default")),
              "max_person": rule.number("max_sessions_per_person_day")}
    run_sql(con, """CREATE OR REPLACE TEMP TABLE _hits AS
    WITH d AS (
        SELECT s.setl_id, s.psn_no, s.fixmedins_code, s.setl_time::DATE AS day,
               sum(f.cnt) AS sessions
        FROM fee_details f JOIN _effective s ON s.setl_id = f.setl_id
        WHERE f.med_list_codg IN (SELECT unnest($codes::VARCHAR[]))
        GROUP BY ALL
    ), cap AS (
        SELECT unnest($levels::VARCHAR[]) AS hosp_lv, unnest($caps::INTEGER[]) AS capacity
    ), inst_day AS (
        SELECT d.fixmedins_code, d.day, sum(d.sessions)::DOUBLE AS sessions,
               count(DISTINCT d.psn_no) AS patients,
               any_value(i.hosp_lv) AS hosp_lv,
               any_value(coalesce(c.capacity, $default_cap)) AS capacity,
               list(d.setl_id) AS setl_ids, list(d.psn_no) AS persons
        FROM d LEFT JOIN institutions i ON i.fixmedins_code = d.fixmedins_code
        LEFT JOIN cap c ON c.hosp_lv = i.hosp_lv
        GROUP BY 1, 2
    ), inst_over AS (
        SELECT fixmedins_code, any_value(hosp_lv) AS hosp_lv, any_value(capacity) AS capacity,
               count(*) AS n_days, max(sessions) AS max_sessions,
               arg_max(day, {'n': sessions, 'd': day}) AS worst_day,
               list({'day': day, 'sessions': sessions, 'patients': patients} ORDER BY day)
                   AS days,
               list_sort(list_distinct(flatten(list(persons)))) AS persons,
               list_sort(list_distinct(flatten(list(setl_ids)))) AS setl_ids
        FROM inst_day WHERE sessions > capacity GROUP BY 1
    ), person_day AS (
        SELECT psn_no, day, sum(sessions)::DOUBLE AS sessions,
               list_distinct(list(fixmedins_code)) AS institutions, list(setl_id) AS setl_ids
        FROM d GROUP BY 1, 2 HAVING sum(sessions) > $max_person
    ), person_over AS (
        SELECT psn_no, count(*) AS n_days, max(sessions) AS max_sessions,
               arg_max(day, {'n': sessions, 'd': day}) AS worst_day,
               list({'day': day, 'sessions': sessions} ORDER BY day) AS days,
               list_sort(list_distinct(flatten(list(institutions)))) AS institutions,
               list_sort(list_distinct(flatten(list(setl_ids)))) AS setl_ids
        FROM person_day GROUP BY 1
    )
    SELECT [fixmedins_code, 'over_capacity'] AS hit_keys, 'over_capacity' AS hit_class,
           'institution' AS subject_kind, fixmedins_code AS subject_id, persons,
           [fixmedins_code] AS institutions, []::VARCHAR[] AS practitioners, setl_ids,
           []::VARCHAR[] AS trace_codes,
           format('机构 {}（等级 {}，日透析能力约 {} 人次）在 {} 天超负荷，'
                  '最多一天（{}）{:.0f} 人次',
                  fixmedins_code, coalesce(hosp_lv, '未知'), capacity, n_days,
                  strftime(worst_day, '%Y-%m-%d'), max_sessions) AS evidence_zh,
           format('Institution {} (level {}, about {} sessions a day) was over capacity on {} '
                  'days, at most {:.0f} sessions on {}', fixmedins_code,
                  coalesce(hosp_lv, 'unknown'), capacity, n_days, max_sessions,
                  strftime(worst_day, '%Y-%m-%d')) AS evidence_en,
           json_object('capacity_per_day', capacity, 'hosp_lv', hosp_lv, 'n_days', n_days,
                       'max_sessions', max_sessions, 'days', to_json(days)) AS metrics
    FROM inst_over
    UNION ALL
    SELECT [psn_no, 'double_session'], 'double_session', 'person', psn_no, [psn_no],
           institutions, []::VARCHAR[], setl_ids, []::VARCHAR[],
           format('参保人 {} 在 {} 天每天透析超过 {:.0f} 次，最多一天（{}）{:.0f} 次', psn_no,
                  n_days, $max_person, strftime(worst_day, '%Y-%m-%d'), max_sessions),
           format('Insured person {} had more than {:.0f} dialysis session a day on {} days, '
                  '{:.0f} on {}', psn_no, $max_person, n_days, max_sessions,
                  strftime(worst_day, '%Y-%m-%d')),
           json_object('n_days', n_days, 'max_sessions', max_sessions, 'days', to_json(days))
    FROM person_over""", params)
