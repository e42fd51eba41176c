// One node per ring: every column of the rings table (features, metrics as JSON text).
UNWIND $rows AS row
CREATE (r:Ring)
SET r = row
