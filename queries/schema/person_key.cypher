// Uniqueness of Person: MERGE on it is an index lookup, and concurrent loads cannot
// duplicate nodes.
CREATE CONSTRAINT person_key IF NOT EXISTS FOR (n:Person) REQUIRE n.psn_no IS UNIQUE
