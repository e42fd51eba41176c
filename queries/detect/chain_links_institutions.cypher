// Consecutive sales of suspicious chains: institution -> institution.
UNWIND $rows AS row
MATCH (a:Institution {fixmedins_code: row.src})
MATCH (b:Institution {fixmedins_code: row.dst})
CREATE (a)-[l:CHAIN_LINK]->(b)
SET l = row.props
