// Listed practitioners' properties (from the practitioners table: dr_type is set; bare nodes
// made from settlements' dr_codg are left out).
MATCH (n:Practitioner)
WHERE n.dr_type IS NOT NULL
RETURN properties(n) AS row
