using System.Text.Json;
using Dapper;
using Hub.Store.Contacts;

namespace Hub.Store.Phones;

public sealed partial class PhoneNumberUpgrade
{
    private async Task<int> ReNormaliseContactsAsync(Dictionary<string, string> countries, CancellationToken cancellationToken)
    {
        var changed = 0;
        var after = new { TenantId = "", ExternalId = "" };
        while (true)
        {
            var batch = await ReadBatchAsync<ContactRow>(
                """
                SELECT tenant_id, external_id, phones FROM contacts
                WHERE (tenant_id, external_id) > (@TenantId, @ExternalId)
                ORDER BY tenant_id, external_id
                LIMIT @BatchSize
                """, new { after.TenantId, after.ExternalId, BatchSize }, cancellationToken);
            if (batch.Count == 0)
            {
                return changed;
            }

            var last = batch[^1];
            var stored = (await ReadBatchAsync<PhoneRow>(
                """
                SELECT tenant_id, external_id, canonical, national FROM contact_phones
                WHERE (tenant_id, external_id) > (@TenantId, @ExternalId) AND (tenant_id, external_id) <= (@lastTenantId, @lastExternalId)
                """, new { after.TenantId, after.ExternalId, lastTenantId = last.TenantId, lastExternalId = last.ExternalId },
                cancellationToken)).ToLookup(row => (row.TenantId, row.ExternalId));

            var rewrites = new List<(ContactRow Contact, List<(string Canonical, string National)> Keys)>();
            foreach (var contact in batch)
            {
                var phones = JsonSerializer.Deserialize<string[]>(contact.Phones) ?? [];
                var keys = ContactDirectory.PhoneKeys(phones, await CountryOfAsync(countries, contact.TenantId, cancellationToken)).ToList();
                if (!keys.ToHashSet().SetEquals(stored[(contact.TenantId, contact.ExternalId)].Select(row => (row.Canonical, row.National))))
                {
                    rewrites.Add((contact, keys));
                }
            }

            if (rewrites.Count > 0)
            {
                changed += await WriteBatchAsync((connection, transaction) => RewritePhonesAsync(connection, transaction, rewrites, cancellationToken),
                    cancellationToken);
            }

            if (batch.Count < BatchSize)
            {
                return changed;
            }

            after = new { last.TenantId, last.ExternalId };
        }
    }

    private async Task<int> RewritePhonesAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction,
        List<(ContactRow Contact, List<(string Canonical, string National)> Keys)> rewrites, CancellationToken cancellationToken)
    {
        // PostgreSQL: the contact's row lock orders this after (or before) an upsert of the same contact, which takes it
        // first too; a contact whose phones are no longer the ones read was written by the new code and is skipped.
        var lockRow = database.Dialect == SqlDialect.Postgres ? " FOR UPDATE" : "";
        var changed = 0;
        foreach (var (contact, keys) in rewrites)
        {
            var unchanged = await connection.QueryFirstOrDefaultAsync<int?>(new CommandDefinition(
                $"SELECT 1 FROM contacts WHERE tenant_id = @TenantId AND external_id = @ExternalId AND phones = @Phones{lockRow}",
                contact, transaction, cancellationToken: cancellationToken));
            if (unchanged is null)
            {
                continue;
            }

            await connection.ExecuteAsync(new CommandDefinition(
                "DELETE FROM contact_phones WHERE tenant_id = @TenantId AND external_id = @ExternalId",
                contact, transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO contact_phones (tenant_id, external_id, canonical, national)
                VALUES (@TenantId, @ExternalId, @Canonical, @National)
                """,
                keys.Select(key => new { contact.TenantId, contact.ExternalId, key.Canonical, key.National }),
                transaction, cancellationToken: cancellationToken));
            changed++;
        }

        return changed;
    }

    private sealed record ContactRow
    {
        public string TenantId { get; init; } = "";
        public string ExternalId { get; init; } = "";
        public string Phones { get; init; } = "[]";
    }

    private sealed record PhoneRow
    {
        public string TenantId { get; init; } = "";
        public string ExternalId { get; init; } = "";
        public string Canonical { get; init; } = "";
        public string National { get; init; } = "";
    }
}
