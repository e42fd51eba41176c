// Start every step again (push --restart).
MATCH (c:LoadCheckpoint) DELETE c
