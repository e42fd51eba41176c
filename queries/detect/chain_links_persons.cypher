// Consecutive sales of suspicious chains: person -> person.
UNWIND $rows AS row
MATCH (a:Person {psn_no: row.src})
MATCH (b:Person {psn_no: row.dst})
CREATE (a)-[l:CHAIN_LINK]->(b)
SET l = row.props
