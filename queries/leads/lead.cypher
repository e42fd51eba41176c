// One lead by id.
MATCH (l:Lead {lead_id: $lead_id})
RETURN properties(l) AS lead
