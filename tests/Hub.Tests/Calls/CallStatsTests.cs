using System.Net;
using System.Text.Json.Nodes;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Calls;

/// <summary>Stats on known data sets with hand-computed values, on each store (<see cref="SqliteCallStatsTests"/>).</summary>
public abstract class CallStatsTests : StoreTestBase
{
    private static readonly DateTimeOffset Day = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    private static object?[] Row(JsonNode item) =>
    [
        item["key"]!.GetValue<string>(), item["calls"]!.GetValue<long>(), item["answered"]!.GetValue<long>(), item["missed"]!.GetValue<long>(),
        item["answer_rate"]!.GetValue<double>(), item["total_billsec"]!.GetValue<long>(),
        item["avg_billsec"]?.GetValue<double>(), item["avg_ring_seconds"]?.GetValue<double>(),
    ];

    private static async Task<List<object?[]>> StatsAsync(HttpClient crm, string query, string groupBy, string? tz = null)
    {
        var body = await ReadAsync(await crm.GetAsync($"/api/v1/calls/stats?group_by={groupBy}{(tz is null ? "" : "&tz=" + tz)}&{query}"), HttpStatusCode.OK);
        Assert.Equal(groupBy, body["group_by"]!.GetValue<string>());
        Assert.Equal(tz ?? "UTC", body["tz"]!.GetValue<string>());
        return body["items"]!.AsArray().Select(item => Row(item!)).ToList();
    }

    [Fact]
    public async Task Stats_by_agent_count_rates_and_average_only_what_can_be_averaged()
    {
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        await SeedCall.InsertAsync(Factory, tenantId,
            new SeedCall("a1-1", Day.AddHours(9)) { AgentId = "a1", Status = "answered", RingSeconds = 5, Billsec = 60 },
            new SeedCall("a1-2", Day.AddHours(10)) { AgentId = "a1", Status = "answered", RingSeconds = 3, Billsec = 30, Matches = ["k-1"] },
            new SeedCall("a1-3", Day.AddHours(11)) { AgentId = "a1", Status = "missed", RingSeconds = 20, Billsec = 0, Matches = ["k-1"] },
            new SeedCall("a2-1", Day.AddHours(9)) { AgentId = "a2", Status = "missed", RingSeconds = 10 },
            new SeedCall("a2-2", Day.AddHours(10)) { AgentId = "a2", Status = "failed" },
            new SeedCall("a2-3", Day.AddHours(11)) { AgentId = "a2", Status = "answered", RingSeconds = 7, Billsec = 0 },
            new SeedCall("a2-4", Day.AddHours(12)) { AgentId = "a2", Status = "ringing" },
            // Outside the range: not counted.
            new SeedCall("a1-old", Day.AddDays(-1)) { AgentId = "a1", Status = "answered", RingSeconds = 1, Billsec = 999 },
            // No answered call at all: nothing to average.
            new SeedCall("a0-1", Day.AddHours(13)) { AgentId = "a0", Status = "missed" });
        var (otherId, _) = await CreateTenantAsync(Factory, "Globex");
        await SeedCall.InsertAsync(Factory, otherId, new SeedCall("x", Day.AddHours(9)) { AgentId = "a1", Status = "answered", RingSeconds = 1, Billsec = 500 });

        var stats = await StatsAsync(crm, "from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z", "agent");

        Assert.Equal(
            Rows(
                ["a0", 1L, 0L, 1L, 0.0, 0L, null, null],
                ["a1", 3L, 2L, 1L, 0.6667, 90L, 45.0, 9.33],
                ["a2", 4L, 1L, 1L, 0.25, 0L, 0.0, 8.5]), stats);
        Assert.Equal(Rows(["a1", 2L, 1L, 1L, 0.5, 30L, 30.0, 11.5]), await StatsAsync(crm, "from=2026-11-20T00:00:00Z&contact=k-1", "agent"));
        Assert.Equal(Rows(["a2", 1L, 0L, 1L, 0.0, 0L, null, 10.0]), await StatsAsync(crm, "agent_id=a2&status=missed", "agent"));
        Assert.Empty(await StatsAsync(crm, "agent_id=nobody", "agent"));
    }

    /// <summary>
    /// New York leaves daylight time on 2026-11-01 at 06:00Z (02:00 EDT becomes 01:00 EST): local hour
    /// 01:00 happens twice and the two stay apart by their offsets.
    /// </summary>
    [Fact]
    public async Task Day_and_hour_follow_the_time_zone_across_a_daylight_saving_change()
    {
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        await SeedCall.InsertAsync(Factory, tenantId,
            new SeedCall("t1", At("2026-10-31T23:30:00Z")) { Status = "answered", RingSeconds = 2, Billsec = 10 },
            new SeedCall("t2", At("2026-11-01T03:30:00Z")) { Status = "missed", RingSeconds = 4 },
            new SeedCall("t3", At("2026-11-01T05:30:00Z")) { Status = "answered", RingSeconds = 6, Billsec = 20 },
            new SeedCall("t4", At("2026-11-01T06:30:00Z")) { Status = "answered", RingSeconds = 8, Billsec = 40 },
            new SeedCall("t5", At("2026-11-01T06:45:00Z")) { Status = "missed", RingSeconds = 10 });

        Assert.Equal(
            Rows(
                ["2026-10-31", 2L, 1L, 1L, 0.5, 10L, 10.0, 3.0],
                ["2026-11-01", 3L, 2L, 1L, 0.6667, 60L, 30.0, 8.0]), await StatsAsync(crm, "", "day", "America/New_York"));
        Assert.Equal(
            Rows(
                ["2026-10-31", 1L, 1L, 0L, 1.0, 10L, 10.0, 2.0],
                ["2026-11-01", 4L, 2L, 2L, 0.5, 60L, 30.0, 7.0]), await StatsAsync(crm, "", "day"));
        Assert.Equal(
            Rows(
                ["2026-10-31T19:00:00-04:00", 1L, 1L, 0L, 1.0, 10L, 10.0, 2.0],
                ["2026-10-31T23:00:00-04:00", 1L, 0L, 1L, 0.0, 0L, null, 4.0],
                ["2026-11-01T01:00:00-04:00", 1L, 1L, 0L, 1.0, 20L, 20.0, 6.0],
                ["2026-11-01T01:00:00-05:00", 2L, 1L, 1L, 0.5, 40L, 40.0, 9.0]), await StatsAsync(crm, "", "hour", "America/New_York"));
    }

    [Fact]
    public async Task A_half_hour_offset_zone_splits_days_and_hours_at_its_own_midnight()
    {
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        await SeedCall.InsertAsync(Factory, tenantId,
            new SeedCall("k1", At("2026-11-20T18:20:00Z")) { Status = "answered", RingSeconds = 1, Billsec = 5 },
            new SeedCall("k2", At("2026-11-20T18:40:00Z")) { Status = "missed", RingSeconds = 3 },
            new SeedCall("k3", At("2026-11-20T18:50:00Z")) { Status = "answered", RingSeconds = 5, Billsec = 15 });

        Assert.Equal(
            Rows(
                ["2026-11-20", 1L, 1L, 0L, 1.0, 5L, 5.0, 1.0],
                ["2026-11-21", 2L, 1L, 1L, 0.5, 15L, 15.0, 4.0]), await StatsAsync(crm, "", "day", "Asia/Kolkata"));
        Assert.Equal(
            Rows(
                ["2026-11-20T23:00:00+05:30", 1L, 1L, 0L, 1.0, 5L, 5.0, 1.0],
                ["2026-11-21T00:00:00+05:30", 2L, 1L, 1L, 0.5, 15L, 15.0, 4.0]), await StatsAsync(crm, "", "hour", "Asia/Kolkata"));
        Assert.Equal(Rows(["2026-11-20T18:00:00+00:00", 3L, 2L, 1L, 0.6667, 20L, 10.0, 3.0]), await StatsAsync(crm, "", "hour"));
    }

    private static List<object?[]> Rows(params object?[][] rows) => [.. rows];

    private static DateTimeOffset At(string utc) => DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture);
}
