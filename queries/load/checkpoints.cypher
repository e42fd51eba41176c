MATCH (c:LoadCheckpoint)
RETURN c.step AS step, c.after AS after, c.rows AS rows, c.fingerprint AS fingerprint,
       c.complete AS complete
ORDER BY step
