// New leads, every field a property (amounts in integer fen, links as lists of codes).
UNWIND $rows AS row
CREATE (l:Lead)
SET l = row
