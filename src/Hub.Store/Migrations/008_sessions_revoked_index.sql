-- Api nodes look for sessions revoked since their last heartbeat, to close connections of a sign-out
-- whose bus message never reached them. Only revoked rows are indexed.
CREATE INDEX ix_sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
