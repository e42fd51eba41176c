// Leads are looked up by their source reference (a ring id, a trace code) when detection runs
// again.
CREATE INDEX lead_ref IF NOT EXISTS FOR (n:Lead) ON (n.source_ref)
