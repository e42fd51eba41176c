MATCH (c:Chain)
RETURN properties(c) AS chain
ORDER BY c.drug_trac_codg
