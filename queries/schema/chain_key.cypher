// Uniqueness of Chain: MERGE on it is an index lookup, and concurrent loads cannot
// duplicate nodes.
CREATE CONSTRAINT chain_key IF NOT EXISTS FOR (n:Chain) REQUIRE n.drug_trac_codg IS UNIQUE
