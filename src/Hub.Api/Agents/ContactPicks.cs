using System.Text.Json;
using Dapper;
using Hub.Store;
using Hub.Store.Config;
using Hub.Store.Phones;
using Microsoft.AspNetCore.SignalR;

namespace Hub.Api.Agents;

/// <summary>
/// The agent chose one of several contacts a screen-pop offered. The call is linked to that contact,
/// and the next time this number calls this agent, that contact ranks first.
/// </summary>
public sealed class ContactPicks(HubDatabase database, TenantConfigReader configs, TimeProvider clock)
{
    public async Task PickAsync(string tenantId, string agentId, JsonElement pick, CancellationToken cancellationToken)
    {
        if (pick.ValueKind != JsonValueKind.Object
            || Text(pick, "call_id") is not { Length: > 0 and <= 128 } callId
            || Text(pick, "external_id") is not { Length: > 0 and <= 128 } externalId)
        {
            throw new HubException("invalid_pick: send {call_id, external_id} of a contact the call's screen-pop offered");
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var pop = await connection.QueryFirstOrDefaultAsync<PopRow>(new CommandDefinition(
            "SELECT number, matches FROM screen_pops WHERE tenant_id = @tenantId AND call_id = @callId AND agent_id = @agentId",
            new { tenantId, callId, agentId }, cancellationToken: cancellationToken))
            ?? throw new HubException($"invalid_pick: no screen-pop for call {callId} of this agent");
        if (!(JsonSerializer.Deserialize<string[]>(pop.Matches) ?? []).Contains(externalId, StringComparer.Ordinal))
        {
            throw new HubException($"invalid_pick: contact {externalId} was not offered for call {callId}");
        }

        var config = await configs.ReadCachedAsync(tenantId, cancellationToken);
        var canonical = Phone.Normalise(pop.Number, configs.CountryCodeOf(config.Config))?.E164 ?? pop.Number;
        var displayName = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT display_name FROM contacts WHERE tenant_id = @tenantId AND external_id = @externalId",
            new { tenantId, externalId }, cancellationToken: cancellationToken));
        var now = clock.NowMs();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO contact_picks (tenant_id, agent_id, canonical, external_id, picked_at) VALUES (@tenantId, @agentId, @canonical, @externalId, @now)
            ON CONFLICT (tenant_id, agent_id, canonical) DO UPDATE SET external_id = excluded.external_id, picked_at = excluded.picked_at
            """, new { tenantId, agentId, canonical, externalId, now }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE screen_pops SET picked_external_id = @externalId, picked_display_name = @displayName WHERE tenant_id = @tenantId AND call_id = @callId",
            new { tenantId, callId, externalId, displayName }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private sealed record PopRow
    {
        public string Number { get; init; } = "";
        public string Matches { get; init; } = "[]";
    }
}
