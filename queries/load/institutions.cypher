// 定点医药机构: one node per fixmedins_code, every store column a property.
UNWIND $rows AS row
MERGE (n:Institution {fixmedins_code: row.fixmedins_code})
SET n += row
