// Every Settlement node's properties (streamed; order does not matter).
MATCH (n:Settlement)
RETURN properties(n) AS row
