// 规则命中: one node per hit (lists of persons, institutions, settlements as properties).
UNWIND $rows AS row
CREATE (h:RuleHit)
SET h = row
