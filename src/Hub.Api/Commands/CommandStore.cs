using System.Text.Json;
using Dapper;
using Hub.Contracts;
using Hub.Store;
using Hub.Store.Phones;
using Hub.Api.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Hub.Api.Commands;

public sealed record CommandResponse(
    string CommandId, string AgentId, string Type, JsonElement Payload, string Status, string? Error, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// Webphone commands and their status: <c>pending</c> until the agent's relay reports
/// <c>delivered</c>/<c>failed</c>, read as <c>expired</c> once the command timeout passes unconfirmed.
/// The store is shared, so the result may come back through any Api node.
/// </summary>
public sealed class CommandStore(HubDatabase database, ConfirmedPublisher publisher, IOptions<HubSettings> settings, TimeProvider clock)
{
    public async Task<CommandResponse> SendAsync(string tenantId, string agentId, string type, JsonElement payload, string countryCode,
        CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var command = new SendWebphoneCommand
        {
            CommandId = Guid.NewGuid(), TenantId = tenantId, AgentId = agentId, Type = type, Payload = payload, CreatedAt = now,
        };

        // Remembered so the outgoing call it causes can be tied back to its campaign and lead.
        var number = type == "call" ? Phone.Normalise(Text(payload, "number"), countryCode)?.E164 : null;
        var options = payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty("options", out var o) ? o : default;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO commands (id, tenant_id, agent_id, type, payload, status, number, campaign_id, lead_id, created_at, updated_at, expires_at)
                VALUES (@id, @tenantId, @agentId, @type, @payload, 'pending', @number, @campaignId, @leadId, @now, @now, @expiresAt)
                """,
                new
                {
                    id = command.CommandId.ToString(), tenantId, agentId, type, payload = payload.GetRawText(), number,
                    campaignId = Text(options, "campaignId") ?? Text(options, "campaign_id"),
                    leadId = Text(options, "leadId") ?? Text(options, "lead_id"),
                    now = now.ToUnixTimeMilliseconds(),
                    expiresAt = now.Add(settings.Value.CommandTimeout).ToUnixTimeMilliseconds(),
                }, cancellationToken: cancellationToken));
        }

        await publisher.PublishAsync(command, cancellationToken);
        return new CommandResponse(command.CommandId.ToString(), agentId, type, payload, "pending", null, now, now);
    }

    public async Task<CommandResponse?> GetAsync(string tenantId, string commandId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QueryFirstOrDefaultAsync<CommandRow>(new CommandDefinition(
            """
            SELECT id, agent_id, type, payload, status, error, created_at, updated_at, expires_at
            FROM commands WHERE id = @commandId AND tenant_id = @tenantId
            """, new { tenantId, commandId }, cancellationToken: cancellationToken));
        if (row is null)
        {
            return null;
        }

        var status = row.Status == "pending" && clock.NowMs() > row.ExpiresAt ? "expired" : row.Status;
        return new CommandResponse(row.Id, row.AgentId, row.Type, JsonDocument.Parse(row.Payload).RootElement.Clone(), status, row.Error,
            Clock.FromMs(row.CreatedAt), Clock.FromMs(row.UpdatedAt));
    }

    /// <summary>The relay's <c>CommandResult({command_id, status, error?})</c>; only the agent the command was for can answer it.</summary>
    public async Task RecordResultAsync(string tenantId, string agentId, JsonElement result, CancellationToken cancellationToken)
    {
        if (result.ValueKind != JsonValueKind.Object
            || Text(result, "command_id") is not { } commandId || !Guid.TryParse(commandId, out _)
            || Text(result, "status") is not ("delivered" or "failed") || Text(result, "error") is { Length: > 1000 })
        {
            throw new HubException("invalid_command_result: send {command_id: uuid, status: 'delivered' | 'failed', error?: string}");
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var updated = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE commands SET status = @status, error = @error, updated_at = @now
            WHERE id = @commandId AND tenant_id = @tenantId AND agent_id = @agentId AND status = 'pending'
            """,
            new { commandId, tenantId, agentId, status = Text(result, "status"), error = Text(result, "error"), now = clock.NowMs() },
            cancellationToken: cancellationToken));
        if (updated == 0)
        {
            // Several tabs of one agent each answer; the first answer counts, the others are no error.
            var exists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM commands WHERE id = @commandId AND tenant_id = @tenantId AND agent_id = @agentId",
                new { commandId, tenantId, agentId }, cancellationToken: cancellationToken));
            if (exists == 0)
            {
                throw new HubException($"command_not_found: no command {commandId} for this agent");
            }
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;

    private sealed record CommandRow
    {
        public string Id { get; init; } = "";
        public string AgentId { get; init; } = "";
        public string Type { get; init; } = "";
        public string Payload { get; init; } = "{}";
        public string Status { get; init; } = "";
        public string? Error { get; init; }
        public long CreatedAt { get; init; }
        public long UpdatedAt { get; init; }
        public long ExpiresAt { get; init; }
    }
}
