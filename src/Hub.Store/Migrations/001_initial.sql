-- Times are Unix epoch milliseconds (UTC) in every dialect, so queries are the same SQL on both stores.

CREATE TABLE tenants (
    id text PRIMARY KEY,
    name text NOT NULL,
    parent_id text NULL REFERENCES tenants (id),
    is_master integer NOT NULL DEFAULT 0,
    created_at bigint NOT NULL
);
CREATE INDEX ix_tenants_parent ON tenants (parent_id);

CREATE TABLE api_keys (
    id text PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants (id),
    name text NOT NULL,
    key_hash text NOT NULL UNIQUE,
    key_prefix text NOT NULL,
    scopes text NOT NULL,
    created_at bigint NOT NULL,
    last_used_at bigint NULL,
    revoked_at bigint NULL
);
CREATE INDEX ix_api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE hub_secrets (
    name text PRIMARY KEY,
    value text NOT NULL,
    created_at bigint NOT NULL
);

CREATE TABLE used_tokens (
    tenant_id text NOT NULL,
    jti text NOT NULL,
    expires_at bigint NOT NULL,
    PRIMARY KEY (tenant_id, jti)
);
CREATE INDEX ix_used_tokens_expiry ON used_tokens (expires_at);

CREATE TABLE sessions (
    id text PRIMARY KEY,
    token_hash text NOT NULL UNIQUE,
    tenant_id text NOT NULL REFERENCES tenants (id),
    agent_id text NOT NULL,
    role text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    revoked_at bigint NULL
);
CREATE INDEX ix_sessions_agent ON sessions (tenant_id, agent_id);

CREATE TABLE tenant_config (
    tenant_id text PRIMARY KEY REFERENCES tenants (id),
    document text NOT NULL,
    updated_at bigint NOT NULL
);

CREATE TABLE ingested_events (
    tenant_id text NOT NULL,
    event_id text NOT NULL,
    received_at bigint NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);

CREATE TABLE contacts (
    tenant_id text NOT NULL REFERENCES tenants (id),
    external_id text NOT NULL,
    display_name text NOT NULL,
    company text NULL,
    email text NULL,
    url text NULL,
    phones text NOT NULL,
    custom_fields text NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (tenant_id, external_id)
);

CREATE TABLE contact_phones (
    tenant_id text NOT NULL,
    external_id text NOT NULL,
    canonical text NOT NULL,
    national text NOT NULL,
    PRIMARY KEY (tenant_id, external_id, canonical)
);
CREATE INDEX ix_contact_phones_canonical ON contact_phones (tenant_id, canonical);
CREATE INDEX ix_contact_phones_national ON contact_phones (tenant_id, national);

CREATE TABLE call_events (
    tenant_id text NOT NULL,
    event_id text NOT NULL,
    call_id text NOT NULL,
    agent_id text NOT NULL,
    type text NOT NULL,
    seq bigint NOT NULL,
    occurred_at bigint NOT NULL,
    received_at bigint NOT NULL,
    payload text NOT NULL,
    campaign_id text NULL,
    lead_id text NULL,
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX ix_call_events_call ON call_events (tenant_id, call_id);

CREATE TABLE calls (
    tenant_id text NOT NULL,
    call_id text NOT NULL,
    agent_id text NOT NULL,
    direction text NULL,
    from_number text NULL,
    to_number text NULL,
    remote_number text NULL,
    status text NOT NULL,
    started_at bigint NOT NULL,
    answered_at bigint NULL,
    ended_at bigint NULL,
    ring_seconds integer NULL,
    billsec integer NULL,
    hangup_cause text NULL,
    campaign_id text NULL,
    lead_id text NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (tenant_id, call_id)
);
CREATE INDEX ix_calls_started ON calls (tenant_id, started_at DESC, call_id DESC);
CREATE INDEX ix_calls_agent_started ON calls (tenant_id, agent_id, started_at DESC);
CREATE INDEX ix_calls_remote ON calls (tenant_id, remote_number);

CREATE TABLE screen_pops (
    tenant_id text NOT NULL,
    call_id text NOT NULL,
    agent_id text NOT NULL,
    number text NOT NULL,
    unknown_caller integer NOT NULL,
    primary_external_id text NULL,
    primary_display_name text NULL,
    matches text NOT NULL,
    created_at bigint NOT NULL,
    pushed_at bigint NULL,
    PRIMARY KEY (tenant_id, call_id)
);

CREATE TABLE commands (
    id text PRIMARY KEY,
    tenant_id text NOT NULL,
    agent_id text NOT NULL,
    type text NOT NULL,
    payload text NOT NULL,
    status text NOT NULL,
    error text NULL,
    number text NULL,
    campaign_id text NULL,
    lead_id text NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX ix_commands_agent ON commands (tenant_id, agent_id, created_at DESC);

CREATE TABLE api_nodes (
    node_id text PRIMARY KEY,
    started_at bigint NOT NULL,
    last_seen_at bigint NOT NULL
);

CREATE TABLE agent_connections (
    connection_id text PRIMARY KEY,
    node_id text NOT NULL,
    tenant_id text NOT NULL,
    agent_id text NOT NULL,
    session_id text NOT NULL,
    connected_at bigint NOT NULL
);
CREATE INDEX ix_agent_connections_agent ON agent_connections (tenant_id, agent_id);
CREATE INDEX ix_agent_connections_node ON agent_connections (node_id);

CREATE TABLE agents (
    tenant_id text NOT NULL,
    agent_id text NOT NULL,
    registered integer NOT NULL DEFAULT 0,
    registered_at bigint NOT NULL DEFAULT 0,
    current_call_id text NULL,
    call_state_at bigint NOT NULL DEFAULT 0,
    last_seen_at bigint NOT NULL,
    PRIMARY KEY (tenant_id, agent_id)
);
