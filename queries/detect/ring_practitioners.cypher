// Ring members (practitioners) with their role (core/attached, place, prescriber).
UNWIND $rows AS row
MATCH (r:Ring {ring_id: row.ring_id})
MATCH (m:Practitioner {dr_codg: row.code})
CREATE (r)-[:HAS_MEMBER {role: row.role}]->(m)
