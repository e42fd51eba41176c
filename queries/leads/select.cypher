// Leads matching a filter; a null parameter leaves its criterion out. $region is a division
// code prefix; $kind/$code a link; $text is searched (lower case) in id, title and summary.
MATCH (l:Lead)
WHERE ($states IS NULL OR l.state IN $states)
  AND ($sources IS NULL OR l.source IN $sources)
  AND ($risks IS NULL OR l.risk IN $risks)
  AND ($owner IS NULL OR l.owner = $owner)
  AND ($region IS NULL OR l.region STARTS WITH $region)
  AND ($violation IS NULL OR l.violation = $violation)
  AND ($kind IS NULL
       OR ($kind = 'persons' AND $code IN l.persons)
       OR ($kind = 'institutions' AND $code IN l.institutions)
       OR ($kind = 'practitioners' AND $code IN l.practitioners)
       OR ($kind = 'rings' AND $code IN l.rings))
  AND ($text IS NULL
       OR toLower(l.lead_id + ' ' + l.title + ' ' + l.summary) CONTAINS $text)
  AND ($overdue IS NULL
       OR (l.due IS NOT NULL AND l.due < $today AND l.state <> 'closed') = $overdue)
  AND ($escalate IS NULL
       OR (l.due IS NOT NULL AND l.due < $today AND l.state <> 'closed' AND l.risk = 'high')
          = $escalate)
RETURN properties(l) AS lead
