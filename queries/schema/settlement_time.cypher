// Time windows (neighbourhoods, chains) filter settlements by time.
CREATE INDEX settlement_time IF NOT EXISTS FOR (n:Settlement) ON (n.setl_time)
