// 医保医师药师: one node per dr_codg, every store column a property, linked to the
// institution it is registered at.
UNWIND $rows AS row
MERGE (d:Practitioner {dr_codg: row.dr_codg})
SET d += row
WITH d, row
MATCH (i:Institution {fixmedins_code: row.fixmedins_code})
MERGE (d)-[:WORKS_AT]->(i)
