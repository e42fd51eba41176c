// The ledger's events after sequence number $after, in order, at most $limit (ArcadeDB
// refuses a LIMIT of 2^31 - 1 or more: ask for all with leads/events instead).
MATCH (e:LeadEvent)
WHERE e.seq > $after
RETURN properties(e) AS event
ORDER BY e.seq
LIMIT $limit
