MATCH (r:Ring)
RETURN properties(r) AS row
ORDER BY r.ring_id
