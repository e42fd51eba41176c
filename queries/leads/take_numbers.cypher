// Reserve $n lead numbers of $year; the last of them.
MERGE (c:LeadCounter {year: $year})
ON CREATE SET c.n = 0
SET c.n = c.n + $n
RETURN c.n AS n
