// The settlements a ring is measured on.
UNWIND $rows AS row
MATCH (r:Ring {ring_id: row.ring_id})
MATCH (s:Settlement {setl_id: row.setl_id})
CREATE (r)-[:INCLUDES]->(s)
