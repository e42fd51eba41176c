// First statement of every write: writing the head takes its write lock (Neo4j waits for the
// other writer to commit; ArcadeDB fails one of two colliding commits, which is retried), so
// the last event and every lead are read as committed by the writer before.
MATCH (h:LeadLedger {name: $name})
SET h.lock = h.lock + 1
RETURN h.seq AS seq, h.hash AS hash
