// Uniqueness of DetectRun: MERGE on it is an index lookup, and concurrent loads cannot
// duplicate nodes.
CREATE CONSTRAINT detect_run_key IF NOT EXISTS FOR (n:DetectRun) REQUIRE n.run_id IS UNIQUE
