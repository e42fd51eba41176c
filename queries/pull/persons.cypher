// Every Person node's properties (streamed; order does not matter).
MATCH (n:Person)
RETURN properties(n) AS row
