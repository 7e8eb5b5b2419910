using System.Net;
using System.Net.Http.Json;
using Dapper;
using Hub.Api.Maintenance;
using Hub.Store;
using Hub.Store.Config;
using Hub.Tests.Calls;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Maintenance;

/// <summary>Per-account <c>call_retention_days</c>, inherited from the global config; on each store.</summary>
public abstract class CallRetentionTests : StoreTestBase
{
    [Fact]
    public async Task Calls_past_their_accounts_retention_go_in_batches_with_their_events_and_pops_and_nothing_else_does()
    {
        var admin = Factory.Admin();
        await ReadAsync(await admin.PutAsJsonAsync("/api/v1/config", new { call_retention_days = 10 }), HttpStatusCode.OK);
        var (ownId, _) = await CreateTenantAsync(Factory, "Own 30 days");
        await PutOverrideAsync(admin, ownId, new { call_retention_days = 30 });
        var (inheritsId, _) = await CreateTenantAsync(Factory, "Inherits 10 days");
        var (foreverId, _) = await CreateTenantAsync(Factory, "Keeps forever");
        await PutOverrideAsync(admin, foreverId, new { default_country_code = "84" });

        var now = DateTimeOffset.UtcNow;
        var ownOld = Enumerable.Range(0, 5).Select(i => new SeedCall($"old{i}", now.AddDays(-40).AddMinutes(i)) { Matches = ["k-1"] }).ToArray();
        await SeedWithEventsAsync(ownId, [.. ownOld, new SeedCall("kept", now.AddDays(-20)) { Matches = ["k-1"] }]);
        await SeedWithEventsAsync(inheritsId, [new SeedCall("old0", now.AddDays(-15)), new SeedCall("kept", now.AddDays(-5))]);
        await SeedWithEventsAsync(foreverId, [new SeedCall("old0", now.AddDays(-400))]);

        var retention = new CallRetention(
            Factory.Services.GetRequiredService<HubDatabase>(), Factory.Services.GetRequiredService<TenantConfigReader>(), TimeProvider.System,
            NullLogger<CallRetention>.Instance) { BatchSize = 2 };

        Assert.Equal(6, await retention.ApplyAsync(CancellationToken.None));
        Assert.Equal(0, await retention.ApplyAsync(CancellationToken.None));

        await using var connection = await Factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None);
        foreach (var table in (string[])["calls", "call_events", "screen_pops"])
        {
            Assert.Equal(["kept"], await IdsAsync(connection, table, ownId));
            Assert.Equal(table == "screen_pops" ? [] : ["kept"], await IdsAsync(connection, table, inheritsId));
            Assert.Equal(table == "screen_pops" ? [] : ["old0"], await IdsAsync(connection, table, foreverId));
        }
    }

    private static async Task<List<string>> IdsAsync(System.Data.Common.DbConnection connection, string table, string tenantId) =>
        (await connection.QueryAsync<string>($"SELECT DISTINCT call_id FROM {table} WHERE tenant_id = @tenantId ORDER BY call_id", new { tenantId })).ToList();

    private static async Task PutOverrideAsync(HttpClient admin, string tenantId, object config)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/config") { Content = JsonContent.Create(config) };
        request.Headers.Add("X-Account-ID", tenantId);
        await ReadAsync(await admin.SendAsync(request), HttpStatusCode.OK);
    }

    private async Task SeedWithEventsAsync(string tenantId, SeedCall[] calls)
    {
        await SeedCall.InsertAsync(Factory, tenantId, calls);
        await using var connection = await Factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync(
            """
            INSERT INTO call_events (tenant_id, event_id, call_id, agent_id, type, seq, occurred_at, received_at, payload)
            VALUES (@tenantId, @eventId, @CallId, 'agent-1', @type, 1, @at, @at, '{}')
            """,
            calls.SelectMany(call => new[] { "incoming_call", "call_hangup" }.Select(type => new
            {
                tenantId, eventId = Guid.NewGuid().ToString(), call.CallId, type, at = call.StartedAt.ToUnixTimeMilliseconds(),
            })));
    }
}

public sealed class SqliteCallRetentionTests : CallRetentionTests
{
    protected override Task<HubApiFactory> CreateFactoryAsync() => Task.FromResult(new HubApiFactory());
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresCallRetentionTests(PostgresFixture postgres) : CallRetentionTests
{
    protected override async Task<HubApiFactory> CreateFactoryAsync() => new(new HubTopology(Postgres: await postgres.CreateDatabaseAsync()));
}
