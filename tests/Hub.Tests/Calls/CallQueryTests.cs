using System.Net;
using System.Text.Json.Nodes;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Calls;

/// <summary>Every filter of the call list, keyset paging under inserts, and bad queries; on each store (<see cref="SqliteCallQueryTests"/>).</summary>
public abstract class CallQueryTests : StoreTestBase
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);

    private async Task<HttpClient> SeedFilterSetAsync()
    {
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        await SeedCall.InsertAsync(Factory, tenantId,
            new SeedCall("c1", T0) { AgentId = "alice", Status = "answered", RemoteNumber = "+84912345678", Matches = ["k-1"], ContactName = "Nguyen Van A" },
            new SeedCall("c2", T0.AddHours(1)) { AgentId = "bob", Status = "missed", RemoteNumber = "+84987654321", Matches = ["k-1", "k-2"], Picked = "k-2", ContactName = "Tran B" },
            new SeedCall("c3", T0.AddHours(2)) { AgentId = "alice", Status = "missed", Direction = "outbound", RemoteNumber = "+84912345678", Matches = ["k-1", "k-2"] },
            new SeedCall("c4", T0.AddHours(3)) { AgentId = "bob", Status = "failed", Direction = "outbound", RemoteNumber = "+84911111111" },
            new SeedCall("c5", T0.AddHours(4)) { AgentId = "alice", Status = "in_progress", RemoteNumber = "+84911111111", Matches = ["k-2"], ContactName = "Tran B" },
            new SeedCall("c6", T0.AddHours(5)) { AgentId = "carol", Status = "ringing", Direction = null, RemoteNumber = null });
        var (otherId, _) = await CreateTenantAsync(Factory, "Globex");
        await SeedCall.InsertAsync(Factory, otherId,
            new SeedCall("c1", T0) { AgentId = "alice", Status = "missed", Matches = ["k-1"] },
            new SeedCall("g1", T0.AddHours(1)) { AgentId = "alice", Status = "missed", Matches = ["k-1"] });
        return crm;
    }

    private static async Task<List<string>> IdsAsync(HttpClient crm, string query) =>
        (await ReadAsync(await crm.GetAsync("/api/v1/calls?" + query), HttpStatusCode.OK))["items"]!.AsArray()
            .Select(call => call!["call_id"]!.GetValue<string>()).ToList();

    [Fact]
    public async Task Each_filter_selects_exactly_its_calls_of_this_account_newest_first()
    {
        var crm = await SeedFilterSetAsync();

        Assert.Equal(["c6", "c5", "c4", "c3", "c2", "c1"], await IdsAsync(crm, ""));
        Assert.Equal(["c3", "c2"], await IdsAsync(crm, "from=2026-11-20T09:00:00Z&to=2026-11-20T11:00:00Z"));
        Assert.Equal(["c3", "c2"], await IdsAsync(crm, "from=2026-11-20T16:00:00%2B07:00&to=2026-11-20T18:00:00%2B07:00"));
        // Each bound alone: `from` inclusive (c4 starts on it), `to` exclusive (c3 starts on it).
        Assert.Equal(["c6", "c5", "c4"], await IdsAsync(crm, "from=2026-11-20T11:00:00Z"));
        Assert.Equal(["c2", "c1"], await IdsAsync(crm, "to=2026-11-20T10:00:00Z"));
        Assert.Equal(["c5", "c3", "c1"], await IdsAsync(crm, "agent_id=alice"));
        Assert.Equal(["c3", "c1"], await IdsAsync(crm, "number=" + Uri.EscapeDataString("0912 345 678")));
        Assert.Equal(["c3", "c1"], await IdsAsync(crm, "number=84912345678"));
        Assert.Equal(["c4", "c3"], await IdsAsync(crm, "direction=outbound"));
        Assert.Equal(["c5", "c2", "c1"], await IdsAsync(crm, "direction=inbound"));
        Assert.Equal(["c1"], await IdsAsync(crm, "status=answered"));
        Assert.Equal(["c3", "c2"], await IdsAsync(crm, "status=missed"));
        Assert.Equal(["c6"], await IdsAsync(crm, "status=ringing"));
        Assert.Equal(["c5"], await IdsAsync(crm, "status=in_progress"));
        Assert.Equal(["c4"], await IdsAsync(crm, "status=failed"));
        // The picked contact, else the only match; a pop with several unpicked matches links to none.
        Assert.Equal(["c1"], await IdsAsync(crm, "contact=k-1"));
        Assert.Equal(["c5", "c2"], await IdsAsync(crm, "contact=k-2"));
        Assert.Equal(["c3"], await IdsAsync(crm, "agent_id=alice&status=missed&number=%2B84912345678&direction=outbound"));
        Assert.Empty(await IdsAsync(crm, "contact=k-404"));
    }

    [Fact]
    public async Task A_call_shows_its_measured_talk_time_and_linked_contact()
    {
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        await SeedCall.InsertAsync(Factory, tenantId,
            new SeedCall("c1", T0) { AnsweredAfterSeconds = 5, EndedAfterSeconds = 47, RingSeconds = 5, Billsec = 41, Matches = ["k-1"], ContactName = "A" });

        var call = (await ReadAsync(await crm.GetAsync("/api/v1/calls"), HttpStatusCode.OK))["items"]![0]!;

        Assert.Equal(41, call["billsec"]!.GetValue<int>());
        Assert.Equal(42, call["talk_seconds"]!.GetValue<int>());
        Assert.Null(call["end_reason"]);
        Assert.Equal("+84912345678", call["remote_number"]!.GetValue<string>());
        Assert.Equal("k-1", call["contact"]!["external_id"]!.GetValue<string>());
        Assert.Equal(T0.AddSeconds(5), call["answered_at"]!.GetValue<DateTimeOffset>());
    }

    [Fact]
    public async Task Paging_stays_stable_while_calls_are_inserted_between_pages()
    {
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        await SeedCall.InsertAsync(Factory, tenantId, Enumerable.Range(0, 5).Select(i => new SeedCall($"p{i}", T0.AddMinutes(i * 10))).ToArray());
        // Two calls at the same instant: the call id breaks the tie, so neither is skipped or repeated.
        await SeedCall.InsertAsync(Factory, tenantId, new SeedCall("p2b", T0.AddMinutes(20)));

        var seen = new List<string>();
        var page = await ReadAsync(await crm.GetAsync("/api/v1/calls?limit=2"), HttpStatusCode.OK);
        seen.AddRange(Ids(page));
        var round = 0;
        while (page["next_cursor"]?.GetValue<string>() is { } cursor)
        {
            // A newer call (belongs before the cursor: never shown now) and an older one (after it: shown in order).
            await SeedCall.InsertAsync(Factory, tenantId,
                new SeedCall($"new{round}", T0.AddHours(2 + round)), new SeedCall($"old{round}", T0.AddMinutes(-10 - round)));
            round++;
            page = await ReadAsync(await crm.GetAsync("/api/v1/calls?limit=2&cursor=" + Uri.EscapeDataString(cursor)), HttpStatusCode.OK);
            seen.AddRange(Ids(page));
        }

        Assert.Equal(["p4", "p3", "p2b", "p2", "p1", "p0"], seen.Where(id => id.StartsWith('p')));
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.DoesNotContain(seen, id => id.StartsWith("new", StringComparison.Ordinal));
        Assert.Equal(seen.Where(id => id.StartsWith("old", StringComparison.Ordinal)).Order(StringComparer.Ordinal),
            seen.Where(id => id.StartsWith("old", StringComparison.Ordinal)));
        Assert.Contains("old0", seen);
    }

    [Fact]
    public async Task Limit_is_one_to_five_hundred()
    {
        var (tenantId, crm) = await CreateTenantAsync(Factory, "Acme");
        await SeedCall.InsertAsync(Factory, tenantId, Enumerable.Range(0, 501).Select(i => new SeedCall($"l{i:000}", T0.AddSeconds(i))).ToArray());

        var page = await ReadAsync(await crm.GetAsync("/api/v1/calls?limit=500"), HttpStatusCode.OK);

        Assert.Equal(500, page["items"]!.AsArray().Count);
        Assert.NotNull(page["next_cursor"]);
        Assert.Single(await IdsAsync(crm, "limit=1"));
    }

    [Theory]
    [InlineData("/api/v1/calls?limit=0", "limit")]
    [InlineData("/api/v1/calls?limit=501", "limit")]
    [InlineData("/api/v1/calls?limit=ten", "limit")]
    [InlineData("/api/v1/calls?from=yesterday", "from")]
    [InlineData("/api/v1/calls?to=2026-13-01T00:00:00Z", "to")]
    [InlineData("/api/v1/calls?direction=sideways", "direction")]
    [InlineData("/api/v1/calls?status=busy", "status")]
    [InlineData("/api/v1/calls?agent_id=a&agent_id=b", "agent_id")]
    [InlineData("/api/v1/calls/stats?group_by=week", "group_by")]
    [InlineData("/api/v1/calls/stats", "group_by")]
    [InlineData("/api/v1/calls/stats?group_by=day&tz=Mars/Olympus_Mons", "tz")]
    [InlineData("/api/v1/calls/stats?group_by=agent&status=busy", "status")]
    [InlineData("/api/v1/calls/export.csv?from=soon", "from")]
    [InlineData("/api/v1/calls/export.csv?direction=up", "direction")]
    public async Task A_bad_query_is_400_invalid_query_naming_the_parameter(string url, string parameter)
    {
        var (_, crm) = await CreateTenantAsync(Factory, "Acme");

        var problem = await AssertProblemAsync(await crm.GetAsync(url), HttpStatusCode.BadRequest, "invalid_query");

        Assert.Equal(parameter, problem["parameter"]!.GetValue<string>());
        Assert.Contains(parameter, problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static IEnumerable<string> Ids(JsonNode page) => page["items"]!.AsArray().Select(call => call!["call_id"]!.GetValue<string>());
}
