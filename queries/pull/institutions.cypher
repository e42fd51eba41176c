// Every Institution node's properties (streamed; order does not matter).
MATCH (n:Institution)
RETURN properties(n) AS row
