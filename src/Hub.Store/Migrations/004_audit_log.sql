-- Who changed what in an account: tenants, API keys, embed signing keys, config. Never secrets:
-- detail holds names and scopes only. tenant_id is the account acted on (the working account).
CREATE TABLE audit_log (
    id text PRIMARY KEY,
    tenant_id text NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    detail text NULL,
    at bigint NOT NULL
);
CREATE INDEX ix_audit_log_tenant_at ON audit_log (tenant_id, at);
