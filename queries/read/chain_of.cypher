// Every settlement of one traceability code, with its fee lines' unit price and quantity,
// the institution's division and when (if ever) it was reversed.
MATCH (:TraceCode {drug_trac_codg: $code})<-[:CARRIES]-(f:FeeDetail)<-[:HAS_FEE]-(s:Settlement)
WITH s, min(f.pric) AS pric, sum(f.cnt) AS cnt
OPTIONAL MATCH (s)-[:AT]->(i:Institution)
OPTIONAL MATCH (s)<-[:REVERSES]-(r:Settlement)
WITH s, pric, cnt, i.admdvs AS admdvs, min(r.setl_time) AS reversed_at
RETURN s.setl_id AS setl_id, s.psn_no AS psn_no, s.fixmedins_code AS fixmedins_code,
       admdvs, s.setl_time AS setl_time, pric, cnt, s.init_setl_id AS init_setl_id,
       reversed_at
ORDER BY setl_time, setl_id
