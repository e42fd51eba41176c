// Uniqueness of LoadCheckpoint: MERGE on it is an index lookup, and concurrent loads cannot
// duplicate nodes.
CREATE CONSTRAINT load_checkpoint_key IF NOT EXISTS FOR (n:LoadCheckpoint) REQUIRE n.step IS UNIQUE
