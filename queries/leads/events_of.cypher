// A lead's events after version $version, oldest first.
MATCH (e:LeadEvent)
WHERE e.lead_id = $lead_id AND e.version > $version
RETURN properties(e) AS event
ORDER BY e.seq
