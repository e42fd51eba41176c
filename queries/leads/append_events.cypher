// Append audit events and tie each to its lead.
UNWIND $rows AS row
MATCH (l:Lead {lead_id: row.lead_id})
CREATE (l)-[:HAS_EVENT]->(e:LeadEvent)
SET e = row
