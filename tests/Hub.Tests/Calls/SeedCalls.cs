using Dapper;
using Hub.Store;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Tests.Calls;

/// <summary>
/// A call row as the call-log consumer would have written it, with its screen-pop when it has a contact.
/// Queries are tested on rows written straight to the store, so expected values can be computed by hand.
/// </summary>
public sealed record SeedCall(string CallId, DateTimeOffset StartedAt)
{
    public string AgentId { get; init; } = "agent-1";
    public string? Direction { get; init; } = "inbound";
    public string Status { get; init; } = "answered";
    public string? FromNumber { get; init; } = "0912345678";
    public string? ToNumber { get; init; }
    public string? RemoteNumber { get; init; } = "+84912345678";
    public int? AnsweredAfterSeconds { get; init; }
    public int? EndedAfterSeconds { get; init; }
    public int? RingSeconds { get; init; }
    public int? Billsec { get; init; }
    public string? HangupCause { get; init; }
    public string? CampaignId { get; init; }
    public string? LeadId { get; init; }

    /// <summary>The screen-pop's contacts: one is a link; several are one only when <see cref="Picked"/>.</summary>
    public string[] Matches { get; init; } = [];
    public string? Picked { get; init; }
    public string? ContactName { get; init; }

    public static async Task InsertAsync(HubApiFactory factory, string tenantId, params SeedCall[] calls)
    {
        var database = factory.Services.GetRequiredService<HubDatabase>();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await connection.ExecuteAsync(
            """
            INSERT INTO calls (tenant_id, call_id, agent_id, direction, from_number, to_number, remote_number, status, started_at,
                               answered_at, ended_at, ring_seconds, billsec, hangup_cause, campaign_id, lead_id, updated_at)
            VALUES (@tenantId, @CallId, @AgentId, @Direction, @FromNumber, @ToNumber, @RemoteNumber, @Status, @Started,
                    @Answered, @Ended, @RingSeconds, @Billsec, @HangupCause, @CampaignId, @LeadId, @now)
            """,
            calls.Select(call => new
            {
                tenantId, call.CallId, call.AgentId, call.Direction, call.FromNumber, call.ToNumber, call.RemoteNumber, call.Status,
                Started = call.StartedAt.ToUnixTimeMilliseconds(),
                Answered = call.AnsweredAfterSeconds is { } a ? call.StartedAt.AddSeconds(a).ToUnixTimeMilliseconds() : (long?)null,
                Ended = call.EndedAfterSeconds is { } e ? call.StartedAt.AddSeconds(e).ToUnixTimeMilliseconds() : (long?)null,
                call.RingSeconds, call.Billsec, call.HangupCause, call.CampaignId, call.LeadId, now,
            }), transaction);
        await connection.ExecuteAsync(
            """
            INSERT INTO screen_pops (tenant_id, call_id, agent_id, number, unknown_caller, primary_external_id, primary_display_name, matches,
                                     created_at, picked_external_id, picked_display_name, match_count)
            VALUES (@tenantId, @CallId, @AgentId, @number, 0, @primary, @ContactName, @matches, @now, @Picked, @pickedName, @count)
            """,
            calls.Where(call => call.Matches.Length > 0).Select(call => new
            {
                tenantId, call.CallId, call.AgentId, number = call.FromNumber ?? "", primary = call.Matches[0], call.ContactName,
                matches = System.Text.Json.JsonSerializer.Serialize(call.Matches), now, call.Picked,
                pickedName = call.Picked is null ? null : call.ContactName, count = call.Matches.Length,
            }), transaction);
        await transaction.CommitAsync();
    }
}
