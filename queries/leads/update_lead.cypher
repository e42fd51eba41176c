// Write a lead only where it still has the version the user saw; no row back: a conflict.
MATCH (l:Lead {lead_id: $lead_id})
WHERE l.version = $expected
SET l += $row
RETURN l.version AS version
