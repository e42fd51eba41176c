// The ledger's events after sequence number $after, in order.
MATCH (e:LeadEvent)
WHERE e.seq > $after
RETURN properties(e) AS event
ORDER BY e.seq
