-- Call analytics (issue 8). end_reason says why the hub, not the webphone, closed a call: 'swept' when
-- no hangup arrived within Hub:CallSweepAfter. The call-log consumer's rebuild sets it back to null, so
-- a late hangup still gives the call its real final state.
ALTER TABLE calls ADD COLUMN end_reason text NULL;

-- Stats over a time range read only this index (a covering index), whatever else the row holds.
CREATE INDEX ix_calls_stats ON calls (tenant_id, started_at, agent_id, status, direction, billsec, ring_seconds);

-- The number filter pages newest first without sorting every call of a busy number.
CREATE INDEX ix_calls_remote_started ON calls (tenant_id, remote_number, started_at DESC, call_id DESC);
DROP INDEX ix_calls_remote;

-- A status filter (alone or with an agent) pages newest first even when that status is rare.
CREATE INDEX ix_calls_status_started ON calls (tenant_id, status, started_at DESC, call_id DESC);
CREATE INDEX ix_calls_agent_status_started ON calls (tenant_id, agent_id, status, started_at DESC, call_id DESC);

-- The sweeper finds open calls without reading closed ones.
CREATE INDEX ix_calls_open ON calls (updated_at) WHERE status IN ('ringing', 'in_progress');

-- The contact filter: the call's linked contact is the picked one, else the only match (as the list shows it).
CREATE INDEX ix_screen_pops_contact ON screen_pops (tenant_id, (COALESCE(picked_external_id, CASE WHEN match_count = 1 THEN primary_external_id END)));
