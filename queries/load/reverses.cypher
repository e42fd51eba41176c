// A reversal (冲销) points at the settlement it cancels.
UNWIND $rows AS row
MATCH (r:Settlement {setl_id: row.setl_id})
MATCH (o:Settlement {setl_id: row.init_setl_id})
MERGE (r)-[:REVERSES]->(o)
