using System.Data.Common;
using System.Text.Json;
using Dapper;
using Hub.Api.Tenants;
using Hub.Store;
using Hub.Store.Config;
using Hub.Store.Phones;

namespace Hub.Api.Privacy;

/// <summary>
/// Forgets a phone number in an account and its descendants, in one transaction: every call whose remote number it
/// is keeps its timing and status but shows <c>"erased"</c> for its numbers and event payloads and has no contact;
/// its events leave the event stream, its pending webhook deliveries are dropped and the delivery log keeps only
/// that the others were sent; contacts lose the phones a screen-pop for the number would match (exact E.164, or
/// the same national number, as <see cref="Hub.Store.Contacts.ContactDirectory"/> matches); the agents' picks for
/// the number and the dial commands to it lose it too.
/// </summary>
internal static class NumberErasure
{
    /// <summary>What a number or a payload reads as once erased.</summary>
    public const string Erased = "erased";

    private const string ErasedJson = "\"erased\"";

    // Keeps each statement's list of call ids well under SQLite's limit of bound parameters.
    private const int ChunkSize = 500;

    /// <summary>Erases <paramref name="number"/>; <paramref name="audit"/> records it inside the same transaction.</summary>
    public static async Task<ErasureResponse> EraseAsync(HubDatabase database, TenantConfigReader configs, TimeProvider clock, PhoneNumber number,
        string tenantId, Func<DbConnection, DbTransaction, ErasureResponse, Task> audit, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> tenants;
        await using (var reading = await database.OpenAsync(cancellationToken))
        {
            tenants = await TenantTree.SelfAndDescendantsAsync(reading, null, tenantId, cancellationToken);
        }

        // Before the transaction's connection (SQLite: one at a time). Each account's contacts wrote their phones in
        // that account's own default country.
        var countryCodes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tenant in tenants)
        {
            countryCodes[tenant] = configs.CountryCodeOf((await configs.ReadCachedAsync(tenant, cancellationToken)).Config);
        }

        var now = clock.NowMs();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var inTenants = database.InList("tenants");
        var args = new { tenants = tenants.ToArray(), e164 = number.E164, national = number.National, now };

        var calls = (await connection.QueryAsync<(string TenantId, string CallId)>(new CommandDefinition(
            $"SELECT tenant_id, call_id FROM calls WHERE tenant_id {inTenants} AND remote_number = @e164",
            args, transaction, cancellationToken: cancellationToken))).ToList();
        await TakeTurnsWithTheCallLogAsync(database, connection, transaction, calls, cancellationToken);

        var events = 0;
        foreach (var tenant in calls.GroupBy(call => call.TenantId, StringComparer.Ordinal))
        {
            foreach (var chunk in tenant.Select(call => call.CallId).Chunk(ChunkSize))
            {
                events += await EraseCallsAsync(database, connection, transaction, tenant.Key, chunk, now, cancellationToken);
            }
        }

        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            DELETE FROM contact_picks WHERE tenant_id {inTenants} AND canonical = @e164;
            UPDATE commands SET number = NULL, payload = '{ErasedJson}' WHERE tenant_id {inTenants} AND number = @e164;
            """, args, transaction, cancellationToken: cancellationToken));
        var contacts = await ErasePhonesAsync(database, connection, transaction, number, countryCodes, args, now, cancellationToken);

        var erased = new ErasureResponse(calls.Count, events, contacts);
        await audit(connection, transaction, erased);
        await transaction.CommitAsync(cancellationToken);
        return erased;
    }

    /// <summary>
    /// PostgreSQL: the call-log consumer rebuilds a call under an advisory lock per call (CallLogWriter); taking the
    /// same locks, in the same global order, means no event of these calls commits half-way through the erasure
    /// with its payload, stream entry and deliveries intact. (SQLite has one writer: they take turns anyway.)
    /// </summary>
    private static Task TakeTurnsWithTheCallLogAsync(HubDatabase database, DbConnection connection, DbTransaction transaction,
        List<(string TenantId, string CallId)> calls, CancellationToken cancellationToken) =>
        database.Dialect != SqlDialect.Postgres || calls.Count == 0
            ? Task.CompletedTask
            : connection.ExecuteAsync(new CommandDefinition(
                """
                SELECT pg_advisory_xact_lock(h)
                FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(@keys) AS k ORDER BY h) AS locks
                """,
                new { keys = calls.Select(call => call.TenantId + "/" + call.CallId).ToArray() }, transaction, cancellationToken: cancellationToken));

    /// <summary>Erases one account's calls; returns how many of their events it erased.</summary>
    private static async Task<int> EraseCallsAsync(HubDatabase database, DbConnection connection, DbTransaction transaction, string tenantId,
        string[] callIds, long now, CancellationToken cancellationToken)
    {
        var inCalls = database.InList("callIds");
        // Deliveries are found through the subscriptions' index (subscription_id, order_key, …): a call's order key is "call:<id>".
        var ofTheseCalls = $"subscription_id IN (SELECT id FROM webhook_subscriptions WHERE tenant_id = @tenantId) AND order_key {database.InList("orderKeys")}";
        var args = new { tenantId, callIds, orderKeys = callIds.Select(id => "call:" + id).ToArray(), now };

        var events = await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE call_events SET payload = '{ErasedJson}' WHERE tenant_id = @tenantId AND call_id {inCalls}",
            args, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            DELETE FROM event_stream WHERE tenant_id = @tenantId AND call_id {inCalls};
            DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE {ofTheseCalls} AND status = 'pending');
            DELETE FROM webhook_deliveries WHERE {ofTheseCalls} AND status = 'pending';
            UPDATE webhook_attempts SET response_body = NULL WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE {ofTheseCalls});
            UPDATE webhook_deliveries SET body = '{ErasedJson}' WHERE {ofTheseCalls};
            UPDATE screen_pops SET number = '{Erased}', matches = '[]', match_count = 0, primary_external_id = NULL, primary_display_name = NULL,
                picked_external_id = NULL, picked_display_name = NULL
            WHERE tenant_id = @tenantId AND call_id {inCalls};
            UPDATE calls SET from_number = CASE WHEN from_number IS NULL THEN NULL ELSE '{Erased}' END,
                to_number = CASE WHEN to_number IS NULL THEN NULL ELSE '{Erased}' END,
                remote_number = '{Erased}', erased_at = @now, updated_at = @now
            WHERE tenant_id = @tenantId AND call_id {inCalls};
            """, args, transaction, cancellationToken: cancellationToken));
        return events;
    }

    /// <summary>Removes the matching phones of contacts (a contact left with none stays); returns how many contacts lost one.</summary>
    private static async Task<int> ErasePhonesAsync(HubDatabase database, DbConnection connection, DbTransaction transaction, PhoneNumber number,
        IReadOnlyDictionary<string, string> countryCodes, object args, long now, CancellationToken cancellationToken)
    {
        var inTenants = database.InList("tenants");
        const string Matching = "(p.canonical = @e164 OR p.national = @national)";
        var contacts = (await connection.QueryAsync<(string TenantId, string ExternalId, string Phones)>(new CommandDefinition(
            $"""
            SELECT DISTINCT c.tenant_id, c.external_id, c.phones
            FROM contact_phones p JOIN contacts c ON c.tenant_id = p.tenant_id AND c.external_id = p.external_id
            WHERE p.tenant_id {inTenants} AND {Matching}
            """, args, transaction, cancellationToken: cancellationToken))).ToList();

        foreach (var (tenantId, externalId, phones) in contacts)
        {
            var kept = (JsonSerializer.Deserialize<string[]>(phones) ?? [])
                .Where(phone => Phone.Normalise(phone, countryCodes[tenantId]) is not { } written
                    || (written.E164 != number.E164 && written.National != number.National))
                .ToArray();
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE contacts SET phones = @phones, updated_at = @now WHERE tenant_id = @tenantId AND external_id = @externalId",
                new { phones = JsonSerializer.Serialize(kept), now, tenantId, externalId },
                transaction, cancellationToken: cancellationToken));
        }

        await connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM contact_phones AS p WHERE p.tenant_id {inTenants} AND {Matching}", args, transaction, cancellationToken: cancellationToken));
        return contacts.Count;
    }
}
