// 结算: one node per setl_id, every store column a property (amounts in yuan), linked to its
// person, institution and practitioner (a bare Practitioner node when the code is not listed).
UNWIND $rows AS row
MERGE (s:Settlement {setl_id: row.setl_id})
SET s += row
WITH s, row
MATCH (p:Person {psn_no: row.psn_no})
MERGE (p)-[:SETTLED]->(s)
WITH s, row
MATCH (i:Institution {fixmedins_code: row.fixmedins_code})
MERGE (s)-[:AT]->(i)
WITH s, row
WHERE row.dr_codg IS NOT NULL
MERGE (d:Practitioner {dr_codg: row.dr_codg})
MERGE (s)-[:ATTENDED_BY]->(d)
