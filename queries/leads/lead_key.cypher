// Uniqueness of Lead ids, created before any lead is written: two investigators creating
// leads at once can never get the same id.
CREATE CONSTRAINT lead_key IF NOT EXISTS FOR (n:Lead) REQUIRE n.lead_id IS UNIQUE
