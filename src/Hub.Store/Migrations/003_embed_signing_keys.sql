-- Signing keys a tenant's CRM backend mints SSO tokens with (JWT kid = id). The secret is stored
-- encrypted with ASP.NET Core Data Protection, never in plain text; it is shown once, at creation.
CREATE TABLE embed_signing_keys (
    id text PRIMARY KEY,
    tenant_id text NOT NULL REFERENCES tenants (id),
    secret_protected text NOT NULL,
    created_at bigint NOT NULL,
    last_used_at bigint NULL
);
CREATE INDEX ix_embed_signing_keys_tenant ON embed_signing_keys (tenant_id, created_at);

-- The Data Protection key ring, shared by every Api node so each decrypts what another encrypted.
-- The XML is the key material itself (unencrypted unless an operator adds ProtectKeysWith...): this
-- table is as sensitive as the secrets above, protected by the store's access control.
CREATE TABLE data_protection_keys (
    name text PRIMARY KEY,
    xml text NOT NULL,
    created_at bigint NOT NULL
);
