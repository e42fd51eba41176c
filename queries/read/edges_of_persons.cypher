// One hop from persons: their effective settlements in the window, per
// (person, institution, practitioner) with count, fund (统筹 + 个人账户, yuan), first and last time.
MATCH (p:Person)-[:SETTLED]->(s:Settlement)
WHERE p.psn_no IN $codes AND s.setl_time >= coalesce($start, s.setl_time) AND s.setl_time <= coalesce($end, s.setl_time)
  AND s.init_setl_id IS NULL AND s.medfee_sumamt >= 0
  AND NOT EXISTS { (s)<-[:REVERSES]-(:Settlement) }
RETURN s.psn_no AS psn_no, s.fixmedins_code AS fixmedins_code, s.dr_codg AS dr_codg,
       count(*) AS n, sum(coalesce(s.fund_pay_sumamt, 0) + coalesce(s.acct_pay, 0)) AS fund,
       min(s.setl_time) AS first, max(s.setl_time) AS last
