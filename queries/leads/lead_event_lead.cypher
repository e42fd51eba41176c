// A lead's history: its events by lead id.
CREATE INDEX lead_event_lead IF NOT EXISTS FOR (n:LeadEvent) ON (n.lead_id)
