-- Erasure (POST /api/v1/privacy/erasures): when a call's number, payloads and contact link were erased. An
-- erased call keeps its timing and status; the call-log consumer never rebuilds it from later events.
ALTER TABLE calls ADD COLUMN erased_at bigint NULL;
