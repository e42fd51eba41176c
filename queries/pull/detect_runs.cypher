MATCH (d:DetectRun)
RETURN properties(d) AS row
ORDER BY d.run_id
