// Which of the source references $refs of $source already have a lead.
MATCH (l:Lead)
WHERE l.source_ref IN $refs AND l.source = $source
RETURN l.source_ref AS ref, l.lead_id AS lead_id
