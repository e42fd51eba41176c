// Uniqueness of TraceCode: MERGE on it is an index lookup, and concurrent loads cannot
// duplicate nodes.
CREATE CONSTRAINT trace_code_key IF NOT EXISTS FOR (n:TraceCode) REQUIRE n.drug_trac_codg IS UNIQUE
