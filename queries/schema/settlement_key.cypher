// Uniqueness of Settlement: MERGE on it is an index lookup, and concurrent loads cannot
// duplicate nodes.
CREATE CONSTRAINT settlement_key IF NOT EXISTS FOR (n:Settlement) REQUIRE n.setl_id IS UNIQUE
