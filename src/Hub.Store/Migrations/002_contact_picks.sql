-- The contact an agent picked for a number: ranks first the next time that number calls that agent.
CREATE TABLE contact_picks (
    tenant_id text NOT NULL,
    agent_id text NOT NULL,
    canonical text NOT NULL,
    external_id text NOT NULL,
    picked_at bigint NOT NULL,
    PRIMARY KEY (tenant_id, agent_id, canonical)
);

-- A call links to the picked contact, or to the only match; never to one of several guessed.
ALTER TABLE screen_pops ADD COLUMN picked_external_id text NULL;
ALTER TABLE screen_pops ADD COLUMN picked_display_name text NULL;
ALTER TABLE screen_pops ADD COLUMN match_count integer NOT NULL DEFAULT 0;
