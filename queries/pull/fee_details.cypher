// Every FeeDetail node's properties (streamed; order does not matter).
MATCH (n:FeeDetail)
RETURN properties(n) AS row
