// Uniqueness of Institution: MERGE on it is an index lookup, and concurrent loads cannot
// duplicate nodes.
CREATE CONSTRAINT institution_key IF NOT EXISTS FOR (n:Institution) REQUIRE n.fixmedins_code IS UNIQUE
