// Uniqueness of Practitioner: MERGE on it is an index lookup, and concurrent loads cannot
// duplicate nodes.
CREATE CONSTRAINT practitioner_key IF NOT EXISTS FOR (n:Practitioner) REQUIRE n.dr_codg IS UNIQUE
