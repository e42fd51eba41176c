// 费用明细: one node per (setl_id, feedetl_sn), every store column a property, linked to its
// settlement and to its traceability codes (药品追溯码, ';'-separated in drug_trac_codg), one
// TraceCode node per code.
UNWIND $rows AS row
MERGE (f:FeeDetail {setl_id: row.setl_id, feedetl_sn: row.feedetl_sn})
SET f += row
WITH f, row
MATCH (s:Settlement {setl_id: row.setl_id})
MERGE (s)-[:HAS_FEE]->(f)
WITH f, row
WHERE row.drug_trac_codg IS NOT NULL
UNWIND split(row.drug_trac_codg, ';') AS code
MERGE (t:TraceCode {drug_trac_codg: code})
MERGE (f)-[:CARRIES]->(t)
