// 追溯码链: one node per traceability code settled more than once, linked to the code.
UNWIND $rows AS row
CREATE (c:Chain)
SET c = row
WITH c
MATCH (t:TraceCode {drug_trac_codg: c.drug_trac_codg})
CREATE (c)-[:OF_CODE]->(t)
