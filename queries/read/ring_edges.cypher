// The settlements of one stored ring, per (person, institution, practitioner).
MATCH (:Ring {ring_id: $ring_id})-[:INCLUDES]->(s:Settlement)
WHERE s.init_setl_id IS NULL AND s.medfee_sumamt >= 0
  AND NOT EXISTS { (s)<-[:REVERSES]-(:Settlement) }
RETURN s.psn_no AS psn_no, s.fixmedins_code AS fixmedins_code, s.dr_codg AS dr_codg,
       count(*) AS n, sum(coalesce(s.fund_pay_sumamt, 0) + coalesce(s.acct_pay, 0)) AS fund,
       min(s.setl_time) AS first, max(s.setl_time) AS last
