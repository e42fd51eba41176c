// One counter of lead numbers per year.
CREATE CONSTRAINT lead_counter_key IF NOT EXISTS FOR (n:LeadCounter) REQUIRE n.year IS UNIQUE
