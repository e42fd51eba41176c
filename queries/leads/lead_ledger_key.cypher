// One head node per ledger (its last event's number and hash; the write lock).
CREATE CONSTRAINT lead_ledger_key IF NOT EXISTS FOR (n:LeadLedger) REQUIRE n.name IS UNIQUE
