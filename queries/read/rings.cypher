MATCH (r:Ring)
RETURN properties(r) AS ring
ORDER BY r.rank, r.ring_id
