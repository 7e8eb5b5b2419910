using Hub.Tests.Support;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Dapper;
using Hub.Bench.Reporting;
using Hub.Bench.Running;
using Npgsql;

namespace Hub.Bench.Scenarios;

/// <summary>
/// Issue 8's figure: with a year of generated calls in PostgreSQL (one big account with 50 agents among several),
/// how fast a month's stats by agent and filtered first pages of the call list answer over HTTP on a real Api node.
/// </summary>
public static class CallsQueries
{
    /// <summary>A timed request; <paramref name="Check"/> says why an answer is not what the filter asked for (an ignored parameter).</summary>
    public sealed record Query(string Name, string Path, Func<JsonElement, string?>? Check = null);

    public sealed record Timing(Query Query, Distribution? Latency, string? Error);

    public const int Agents = 50;
    private const int Numbers = 20_000;
    private const int Warmup = 5;

    /// <summary>Columns of <c>calls</c> the generator fills; any other column must be nullable or have a default.</summary>
    private static readonly Dictionary<string, string> Generators = new(StringComparer.Ordinal)
    {
        ["tenant_id"] = "@tenantId",
        ["call_id"] = "@prefix || g",
        ["agent_id"] = "'agent-' || (g % 50)",
        ["direction"] = "CASE WHEN g % 4 = 0 THEN 'outbound' ELSE 'inbound' END",
        ["from_number"] = "CASE WHEN g % 4 = 0 THEN '+842812345678' ELSE '+849' || lpad(((g * 7919) % 20000)::text, 8, '0') END",
        ["to_number"] = "CASE WHEN g % 4 = 0 THEN '+849' || lpad(((g * 7919) % 20000)::text, 8, '0') ELSE '+842812345678' END",
        ["remote_number"] = "'+849' || lpad(((g * 7919) % 20000)::text, 8, '0')",
        ["status"] = "CASE WHEN g % 10 < 6 THEN 'answered' WHEN g % 10 < 9 THEN 'missed' ELSE 'failed' END",
        ["started_at"] = "@now - (g::bigint * 31536000000 / @count)",
        ["answered_at"] = "CASE WHEN g % 10 < 6 THEN @now - (g::bigint * 31536000000 / @count) + (g % 30) * 1000 END",
        ["ended_at"] = "@now - (g::bigint * 31536000000 / @count) + (g % 30) * 1000 + (CASE WHEN g % 10 < 6 THEN (g * 13) % 600 ELSE 0 END) * 1000",
        ["ring_seconds"] = "g % 30",
        ["billsec"] = "CASE WHEN g % 10 < 6 THEN (g * 13) % 600 ELSE 0 END",
        ["hangup_cause"] = "CASE WHEN g % 10 < 9 THEN 'NORMAL_CLEARING' ELSE 'CALL_REJECTED' END",
        ["campaign_id"] = "CASE WHEN g % 5 = 0 THEN (g % 40)::text END",
        ["lead_id"] = "NULL",
        ["updated_at"] = "@now - (g::bigint * 31536000000 / @count)",
        // Columns migration 007 may add: generated when they exist, so the scenario runs before and after it.
        ["contact_external_id"] = "CASE WHEN g % 3 <> 0 THEN 'c-' || ((g * 7919) % 20000) END",
        ["talk_seconds"] = "CASE WHEN g % 10 < 6 THEN (g * 13) % 600 ELSE 0 END",
    };

    public static string RemoteNumber(int i) => "+849" + i.ToString("D8", CultureInfo.InvariantCulture);

    /// <summary>Fills <c>calls</c> for <paramref name="tenantId"/> with <paramref name="count"/> calls over the last 365 days.</summary>
    public static async Task GenerateAsync(string postgres, string tenantId, int count, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(postgres);
        var columns = (await connection.QueryAsync<(string Name, bool Nullable, bool HasDefault)>(new CommandDefinition(
            """
            SELECT column_name, is_nullable = 'YES', column_default IS NOT NULL
            FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'calls' ORDER BY ordinal_position
            """, cancellationToken: cancellationToken))).ToList();
        var unknown = columns.Where(c => !Generators.ContainsKey(c.Name) && !c.Nullable && !c.HasDefault).Select(c => c.Name).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException($"calls has NOT NULL columns the generator does not know: {string.Join(", ", unknown)}; add them to {nameof(CallsQueries)}.{nameof(Generators)}.");
        }

        var filled = columns.Where(c => Generators.ContainsKey(c.Name)).Select(c => c.Name).ToList();
        var sql = $"INSERT INTO calls ({string.Join(", ", filled)}) SELECT {string.Join(", ", filled.Select(c => Generators[c]))} FROM generate_series(1, @count::bigint) g";
        await connection.ExecuteAsync(new CommandDefinition(sql,
            new { tenantId, prefix = $"gen-{tenantId[..8]}-", count, now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() },
            commandTimeout: 1800, cancellationToken: cancellationToken));
    }

    public static async Task AnalyzeAsync(string postgres, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.ExecuteAsync(new CommandDefinition("VACUUM ANALYZE calls", commandTimeout: 600, cancellationToken: cancellationToken));
    }

    public static IReadOnlyList<Query> Queries()
    {
        var to = DateTimeOffset.UtcNow;
        var from = to.AddDays(-30);
        var month = $"from={Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(to.ToString("O", CultureInfo.InvariantCulture))}";
        return
        [
            new("stats, last 30 days by agent", $"/api/v1/calls/stats?{month}&group_by=agent"),
            new("stats, last 30 days by day", $"/api/v1/calls/stats?{month}&group_by=day&tz=Asia/Ho_Chi_Minh"),
            new("first page, agent_id + status=missed", "/api/v1/calls?agent_id=agent-7&status=missed&limit=50"),
            new("first page, number=", $"/api/v1/calls?number={Uri.EscapeDataString(RemoteNumber(1234))}&limit=50"),
            new("first page, contact=", "/api/v1/calls?contact=c-1234&limit=50", OnlyContact("c-1234")),
            new("first page, no filter", "/api/v1/calls?limit=50"),
        ];
    }

    /// <summary>Warm, sequential: <see cref="Warmup"/> unmeasured requests, then <paramref name="repetitions"/> timed ones.</summary>
    public static async Task<Timing> TimeAsync(HubClient hub, string key, Query query, int repetitions, CancellationToken cancellationToken)
    {
        var samples = new Samples();
        for (var i = 0; i < Warmup + repetitions; i++)
        {
            var sent = Stopwatch.GetTimestamp();
            using var response = await hub.SendRawAsync(HttpMethod.Get, query.Path, key, null, null, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
            if (!response.IsSuccessStatusCode)
            {
                var why = response.StatusCode == HttpStatusCode.NotFound
                    ? "404: this build does not serve this endpoint"
                    : $"{(int)response.StatusCode}";
                return new Timing(query, null, $"{why}: {Shorten(body)}");
            }

            if (i == 0 && query.Check?.Invoke(JsonDocument.Parse(body).RootElement) is { } wrong)
            {
                return new Timing(query, null, wrong);
            }

            if (i >= Warmup)
            {
                samples.Add(elapsed);
            }
        }

        return new Timing(query, samples.Distribution(), null);
    }

    private static Func<JsonElement, string?> OnlyContact(string externalId) => page =>
    {
        var items = page.GetProperty("items");
        var others = items.EnumerateArray().Count(item =>
            !(item.TryGetProperty("contact", out var contact) && contact.ValueKind == JsonValueKind.Object
              && contact.GetProperty("external_id").GetString() == externalId));
        // A call's contact comes from its screen-pop row, and the generator writes none: no call can match.
        return items.GetArrayLength() == 0
            ? "not timed by the bench: the generator writes no screen-pops, so no generated call has a contact; measured by hand, see docs/BENCHMARKS.md"
            : others > 0 ? $"{others} of {items.GetArrayLength()} calls are not {externalId}'s: the contact filter was ignored" : null;
    };

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
