// Where a load step got to, committed in the same transaction as its batch.
MERGE (c:LoadCheckpoint {step: $step})
SET c.after = $after, c.rows = $done, c.fingerprint = $fingerprint, c.complete = $complete,
    c.updated = $updated
