// 参保人员: one node per psn_no, every store column a property.
UNWIND $rows AS row
MERGE (n:Person {psn_no: row.psn_no})
SET n += row
