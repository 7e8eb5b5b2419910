-- Data upgrades that need C# rather than SQL (re-normalising phone numbers with libphonenumber: PhoneNumberUpgrade),
-- run at start after the migrations. A row says the upgrade of that name has finished, so it never runs again.
CREATE TABLE data_upgrades (
    name text PRIMARY KEY,
    completed_at bigint NOT NULL
);
