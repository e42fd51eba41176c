// The ledger's head: the last event's sequence number and hash (genesis before the first).
MERGE (h:LeadLedger {name: $name})
ON CREATE SET h.seq = 0, h.hash = $genesis, h.lock = 0
RETURN h.seq AS seq
