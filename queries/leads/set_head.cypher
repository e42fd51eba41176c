// The ledger's head after appending events.
MATCH (h:LeadLedger {name: $name})
SET h.seq = $seq, h.hash = $hash
