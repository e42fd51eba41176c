// Uniqueness of FeeDetail: MERGE on it is an index lookup, and concurrent loads cannot
// duplicate nodes.
CREATE CONSTRAINT fee_detail_key IF NOT EXISTS FOR (n:FeeDetail) REQUIRE (n.setl_id, n.feedetl_sn) IS UNIQUE
