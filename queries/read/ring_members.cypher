// Ring members from the graph's HAS_MEMBER relationships (all rings when $ring_id is null).
MATCH (r:Ring)-[m:HAS_MEMBER]->(n)
WHERE $ring_id IS NULL OR r.ring_id = $ring_id
RETURN r.ring_id AS ring_id,
       CASE WHEN n:Person THEN 'person' WHEN n:Institution THEN 'institution'
            ELSE 'practitioner' END AS kind,
       CASE WHEN n:Person THEN n.psn_no WHEN n:Institution THEN n.fixmedins_code
            ELSE n.dr_codg END AS code,
       m.role AS role
ORDER BY ring_id, kind, code
