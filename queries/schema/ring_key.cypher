// Uniqueness of Ring: MERGE on it is an index lookup, and concurrent loads cannot
// duplicate nodes.
CREATE CONSTRAINT ring_key IF NOT EXISTS FOR (n:Ring) REQUIRE n.ring_id IS UNIQUE
