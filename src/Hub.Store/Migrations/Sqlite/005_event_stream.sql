-- Every webphone event in the order the hub stored it, for GET /api/v1/events/stream. seq is the
-- stream position (the SSE id): unique over the whole table and only ever increasing (AUTOINCREMENT
-- never reuses a value, and SQLite's single writer commits in allocation order). data holds
-- {agent_id, call_id, seq, payload} as JSON. Rows older than Hub:EventStreamRetention are pruned.
CREATE TABLE event_stream (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id text NOT NULL,
    event_id text NOT NULL,
    type text NOT NULL,
    call_id text NULL,
    agent_id text NOT NULL,
    occurred_at bigint NOT NULL,
    data text NOT NULL,
    UNIQUE (tenant_id, event_id)
);
CREATE INDEX ix_event_stream_tenant_seq ON event_stream (tenant_id, seq);
