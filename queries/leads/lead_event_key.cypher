// Uniqueness of the audit events' sequence numbers: the chain has one event per number.
CREATE CONSTRAINT lead_event_key IF NOT EXISTS FOR (n:LeadEvent) REQUIRE n.seq IS UNIQUE
