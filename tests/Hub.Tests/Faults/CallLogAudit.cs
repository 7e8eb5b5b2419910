using System.Diagnostics;
using Dapper;
using Npgsql;

namespace Hub.Tests.Faults;

/// <summary>What a fault test asserts at the end: the call log holds every acked event exactly once, and every complete call is right.</summary>
public static class CallLogAudit
{
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(90);

    /// <summary>How many events of the tenant the call log holds now.</summary>
    public static async Task<int> LoggedCountAsync(string postgres, string tenantId)
    {
        await using var connection = new NpgsqlConnection(postgres);
        return await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM call_events WHERE tenant_id = @tenantId", new { tenantId });
    }

    /// <summary>
    /// Waits until the call log holds at least <paramref name="count"/> events of the tenant, and returns how long that took.
    /// The log is written by another process, which has nothing to await; it is polled, with a deadline.
    /// </summary>
    public static async Task<TimeSpan> WaitUntilLoggedAsync(string postgres, string tenantId, int count)
    {
        var (logged, waited) = await TryWaitUntilLoggedAsync(postgres, tenantId, count);
        Assert.True(logged >= count, $"After {CatchUpTimeout} the call log holds {logged} of the {count} acked events.");
        return waited;
    }

    private static async Task<(int Logged, TimeSpan Waited)> TryWaitUntilLoggedAsync(string postgres, string tenantId, int count)
    {
        var waited = Stopwatch.StartNew();
        int logged;
        while ((logged = await TryCountAsync(postgres, tenantId)) < count && waited.Elapsed < CatchUpTimeout)
        {
            await Task.Delay(100);
        }

        return (logged, waited.Elapsed);
    }

    /// <summary>Every acked event in <c>call_events</c> exactly once, nothing else of the tenant there, and each complete call answered with its billsec.</summary>
    public static async Task AssertEveryAckedEventLoggedOnceAsync(string postgres, string tenantId, IReadOnlyList<AckedEvent> acked)
    {
        Assert.NotEmpty(acked);
        Assert.Equal(acked.Count, acked.Select(ack => ack.EventId).Distinct().Count());
        // On a timeout the assertions below say which events are missing.
        await TryWaitUntilLoggedAsync(postgres, tenantId, acked.Count);

        await using var connection = new NpgsqlConnection(postgres);
        var logged = (await connection.QueryAsync<string>("SELECT event_id FROM call_events WHERE tenant_id = @tenantId", new { tenantId }))
            .GroupBy(eventId => eventId)
            .ToDictionary(group => group.Key, group => group.Count());
        var missing = acked.Where(ack => !logged.ContainsKey(ack.EventId.ToString())).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {acked.Count} acked events are not in the call log, e.g. {string.Join(", ", missing.Take(5))}.");
        var twice = logged.Where(row => row.Value > 1).Select(row => row.Key).ToList();
        Assert.True(twice.Count == 0, $"{twice.Count} events are logged more than once, e.g. {string.Join(", ", twice.Take(5))}.");
        Assert.Equal(acked.Count, logged.Count);

        var completeCalls = acked.GroupBy(ack => ack.CallId)
            .Where(call => call.Select(ack => ack.Type).Distinct().Count() == 3)
            .ToDictionary(call => call.Key, call => call.Single(ack => ack.Type == "call_hangup").Billsec);
        Assert.Equal(acked.Select(ack => ack.CallId).Distinct().Count(), completeCalls.Count);
        var calls = (await connection.QueryAsync<(string CallId, string Status, int? Billsec, long? AnsweredAt, long? EndedAt)>(
                "SELECT call_id, status, billsec, answered_at, ended_at FROM calls WHERE tenant_id = @tenantId", new { tenantId }))
            .ToDictionary(call => call.CallId);
        Assert.Equal(completeCalls.Count, calls.Count);
        foreach (var (callId, billsec) in completeCalls)
        {
            Assert.True(calls.TryGetValue(callId, out var call), $"{callId} has no call record.");
            Assert.True(call.Status == "answered" && call.Billsec == billsec && call.AnsweredAt is not null && call.EndedAt is not null,
                $"{callId}: expected answered with billsec {billsec}, got {call}.");
        }
    }

    private static async Task<int> TryCountAsync(string postgres, string tenantId)
    {
        try
        {
            return await LoggedCountAsync(postgres, tenantId);
        }
        catch (NpgsqlException)
        {
            // The server is still coming back.
            return -1;
        }
    }
}
