-- crm_lookup.secret, encrypted with Data Protection, kept beside the config document instead of in it: a
-- read of the document (or of a copy of the table) no longer yields the secret. A secret still inside a
-- document written before this migration is moved here, encrypted, when a process starts
-- (CrmLookupSecretUpgrade).
ALTER TABLE tenant_config ADD COLUMN crm_lookup_secret text NULL;
