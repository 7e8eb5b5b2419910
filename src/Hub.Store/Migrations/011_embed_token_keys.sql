-- The keys the hub signs its own embed tokens with (JWT kid = 'hub-' || id). The secret is encrypted with
-- ASP.NET Core Data Protection, never in plain text. A new key is made when the newest is older than
-- Hub:EmbedTokenKeyLifetime or by 'Hub.Api rotate-embed-token-key'; the newest (created_at, then id) signs,
-- and a superseded key still verifies for a grace window longer than any token it signed can live.
CREATE TABLE hub_embed_token_keys (
    id text PRIMARY KEY,
    secret_protected text NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX ix_hub_embed_token_keys_created ON hub_embed_token_keys (created_at, id);

-- The single key that came before was stored in plain text, so anyone who read the store may hold it: it
-- is dropped, not carried over. Tokens it signed (kid 'hub') are single-use and live at most an hour
-- (ttl_seconds 30..3600, 300 by default; the demo's 120 s): the few outstanding at the upgrade are refused
-- with invalid_token, and the page asks its CRM backend for a new one.
DELETE FROM hub_secrets WHERE name = 'embed_token_key';
