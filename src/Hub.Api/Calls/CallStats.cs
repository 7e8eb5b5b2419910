using System.Globalization;
using System.Text;
using Dapper;
using Hub.Api.Auth;
using Hub.Store;
using Hub.Store.Config;

namespace Hub.Api.Calls;

public sealed record CallStatsRow(
    string Key, long Calls, long Answered, long Missed, double AnswerRate, long TotalBillsec, double? AvgBillsec, double? AvgRingSeconds);

public sealed record CallStatsResponse(string GroupBy, string Tz, IReadOnlyList<CallStatsRow> Items);

/// <summary>
/// <c>GET /api/v1/calls/stats</c>. The store only sums and counts, per agent or per 15-minute UTC bucket;
/// every real time zone offset is a multiple of 15 minutes, so each bucket lies in exactly one local hour
/// and day, and C# maps buckets to the requested zone with <see cref="TimeZoneInfo"/>. The same SQL runs on
/// SQLite (which has no time zones) and PostgreSQL, and averages are taken from the summed parts.
/// </summary>
internal static class CallStats
{
    private const long BucketMs = 15 * 60 * 1000;

    public static async Task<CallStatsResponse> GetAsync(
        HttpRequest request, WorkingAccount account, HubDatabase database, TenantConfigReader configs, CancellationToken cancellationToken)
    {
        var groupBy = CallFilter.Single(request.Query, "group_by");
        if (groupBy is not ("agent" or "day" or "hour"))
        {
            throw CallFilter.Invalid("group_by", "must be agent, day or hour.");
        }

        var tzName = CallFilter.Single(request.Query, "tz") is { Length: > 0 } given ? given : "UTC";
        var zone = FindZone(tzName);
        var filter = await CallFilter.ParseAsync(request.Query, account.TenantId, configs, cancellationToken);

        var byAgent = groupBy == "agent";
        var sql = new StringBuilder("SELECT ")
            .Append(byAgent ? "c.agent_id AS agent_id, 0 AS bucket" : $"'' AS agent_id, c.started_at / {BucketMs} AS bucket")
            .Append(
                """
                , count(*) AS calls,
                       sum(CASE WHEN c.status = 'answered' THEN 1 ELSE 0 END) AS answered,
                       sum(CASE WHEN c.status = 'missed' THEN 1 ELSE 0 END) AS missed,
                       sum(CASE WHEN c.status = 'answered' THEN c.billsec END) AS billsec_sum,
                       count(CASE WHEN c.status = 'answered' THEN c.billsec END) AS billsec_count,
                       sum(c.ring_seconds) AS ring_sum,
                       count(c.ring_seconds) AS ring_count
                """)
            // The screen-pop join is only needed to filter by contact; without it the stats index covers the query.
            .Append(" FROM ").Append(filter.Contact is null ? "calls c" : CallFilter.Source);
        filter.AppendWhere(sql).Append(byAgent ? " GROUP BY c.agent_id" : $" GROUP BY c.started_at / {BucketMs}");

        List<Sums> rows;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            rows = (await connection.QueryAsync<Sums>(new CommandDefinition(sql.ToString(), filter, cancellationToken: cancellationToken))).ToList();
        }

        var groups = new SortedDictionary<GroupKey, Sums>();
        foreach (var row in rows)
        {
            var key = groupBy switch
            {
                "agent" => new GroupKey(0, row.AgentId),
                "day" => DayOf(row.Bucket, zone),
                _ => HourOf(row.Bucket, zone),
            };
            groups[key] = groups.TryGetValue(key, out var sum) ? sum.Add(row) : row;
        }

        return new CallStatsResponse(groupBy, tzName, groups.Select(group => group.Value.ToRow(group.Key.Text)).ToList());
    }

    private static TimeZoneInfo FindZone(string name)
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(name);
        }
        catch (Exception exception) when (exception is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw CallFilter.Invalid("tz", $"{name} is not a known IANA time zone such as Asia/Ho_Chi_Minh.");
        }
    }

    private static GroupKey DayOf(long bucket, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(Clock.FromMs(bucket * BucketMs), zone);
        return new GroupKey(local.Year * 10000L + local.Month * 100 + local.Day, local.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
    }

    /// <summary>The local hour with its offset: the two 01:00 hours of a DST fall-back stay apart, in UTC order.</summary>
    private static GroupKey HourOf(long bucket, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(Clock.FromMs(bucket * BucketMs), zone);
        var hour = new DateTimeOffset(local.Year, local.Month, local.Day, local.Hour, 0, 0, local.Offset);
        return new GroupKey(hour.ToUnixTimeMilliseconds(), hour.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture));
    }

    /// <summary>Sorts by <see cref="Order"/> (time), then ordinally by the text (agent ids).</summary>
    private sealed record GroupKey(long Order, string Text) : IComparable<GroupKey>
    {
        public int CompareTo(GroupKey? other) =>
            other is null ? 1 : Order != other.Order ? Order.CompareTo(other.Order) : string.CompareOrdinal(Text, other.Text);
    }

    private sealed record Sums
    {
        public string AgentId { get; init; } = "";
        public long Bucket { get; init; }
        public long Calls { get; init; }
        public long Answered { get; init; }
        public long Missed { get; init; }
        public long? BillsecSum { get; init; }
        public long BillsecCount { get; init; }
        public long? RingSum { get; init; }
        public long RingCount { get; init; }

        public Sums Add(Sums other) => this with
        {
            Calls = Calls + other.Calls,
            Answered = Answered + other.Answered,
            Missed = Missed + other.Missed,
            BillsecSum = (BillsecSum ?? 0) + (other.BillsecSum ?? 0),
            BillsecCount = BillsecCount + other.BillsecCount,
            RingSum = (RingSum ?? 0) + (other.RingSum ?? 0),
            RingCount = RingCount + other.RingCount,
        };

        public CallStatsRow ToRow(string key) => new(
            key, Calls, Answered, Missed,
            Calls == 0 ? 0 : Math.Round((double)Answered / Calls, 4),
            BillsecSum ?? 0,
            BillsecCount == 0 ? null : Math.Round((double)(BillsecSum ?? 0) / BillsecCount, 2),
            RingCount == 0 ? null : Math.Round((double)(RingSum ?? 0) / RingCount, 2));
    }
}
