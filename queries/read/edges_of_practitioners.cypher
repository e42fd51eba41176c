// One hop from practitioners: the effective settlements they are recorded on, in the
// window (see edges_of_persons).
MATCH (s:Settlement)-[:ATTENDED_BY]->(d:Practitioner)
WHERE d.dr_codg IN $codes AND s.setl_time >= coalesce($start, s.setl_time) AND s.setl_time <= coalesce($end, s.setl_time)
  AND s.init_setl_id IS NULL AND s.medfee_sumamt >= 0
  AND NOT EXISTS { (s)<-[:REVERSES]-(:Settlement) }
RETURN s.psn_no AS psn_no, s.fixmedins_code AS fixmedins_code, s.dr_codg AS dr_codg,
       count(*) AS n, sum(coalesce(s.fund_pay_sumamt, 0) + coalesce(s.acct_pay, 0)) AS fund,
       min(s.setl_time) AS first, max(s.setl_time) AS last
