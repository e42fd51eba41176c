// Uniqueness of RuleHit: MERGE on it is an index lookup, and concurrent loads cannot
// duplicate nodes.
CREATE CONSTRAINT rule_hit_key IF NOT EXISTS FOR (n:RuleHit) REQUIRE n.hit_id IS UNIQUE
