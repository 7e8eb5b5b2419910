-- Webhook subscriptions of an account. The signing secret is stored encrypted with ASP.NET Core Data
-- Protection (the key ring in data_protection_keys), shown once at creation. events is a JSON array of
-- event types or ["*"]. failing_since is the time of the first failed attempt since the last success:
-- an endpoint failing for Hub:Webhooks:DisableAfter is disabled with disabled_reason.
CREATE TABLE webhook_subscriptions (
    id text PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants (id),
    url text NOT NULL,
    events text NOT NULL,
    secret_protected text NOT NULL,
    enabled integer NOT NULL DEFAULT 1,
    disabled_reason text NULL,
    disabled_at bigint NULL,
    failing_since bigint NULL,
    created_at bigint NOT NULL
);
CREATE INDEX ix_webhook_subscriptions_tenant ON webhook_subscriptions (tenant_id, created_at);

-- One row per (subscription, event): the message and its schedule. body is fixed at fan-out, so every
-- attempt sends the same bytes under the same webhook-id (the row's id). status is pending, delivered
-- or failed (retries exhausted). order_key is the call id (or the event id for events outside a call):
-- only the first pending delivery of a (subscription, order_key) by (occurred_at, seq, id) is due: the
-- call's order as the webphone reported it (seq breaks ties of equal time). claim_token and claimed_until
-- are the dispatcher's lease on an attempt in flight; an expired lease (a worker died) is due again.
CREATE TABLE webhook_deliveries (
    id text PRIMARY KEY,
    subscription_id text NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    tenant_id text NOT NULL,
    event_id text NOT NULL,
    event_type text NOT NULL,
    call_id text NULL,
    order_key text NOT NULL,
    occurred_at bigint NOT NULL,
    seq bigint NOT NULL,
    body text NOT NULL,
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    schedule_step integer NOT NULL DEFAULT 0,
    next_attempt_at bigint NULL,
    claim_token text NULL,
    claimed_until bigint NULL,
    last_response_code integer NULL,
    delivered_at bigint NULL,
    created_at bigint NOT NULL,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX ix_webhook_deliveries_order ON webhook_deliveries (subscription_id, order_key, status, occurred_at, seq);
CREATE INDEX ix_webhook_deliveries_log ON webhook_deliveries (subscription_id, created_at);

-- The delivery log: one row per HTTP attempt. response_body holds the first bytes of the answer only.
CREATE TABLE webhook_attempts (
    id text PRIMARY KEY,
    delivery_id text NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    at bigint NOT NULL,
    duration_ms bigint NOT NULL,
    status text NOT NULL,
    response_code integer NULL,
    response_body text NULL,
    error text NULL
);
CREATE INDEX ix_webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
