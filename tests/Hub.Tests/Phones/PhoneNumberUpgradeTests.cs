using System.Net;
using System.Net.Http.Json;
using Dapper;
using Hub.Store;
using Hub.Store.Phones;
using Hub.Tests.Calls;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Phones;

/// <summary>
/// <see cref="PhoneNumberUpgrade"/> on each store (<see cref="SqlitePhoneNumberUpgradeTests"/>,
/// <see cref="PostgresPhoneNumberUpgradeTests"/>): rows as the hand-written normaliser stored them are re-normalised.
/// </summary>
public abstract class PhoneNumberUpgradeTests : StoreTestBase
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private HubDatabase Database => Factory.Services.GetRequiredService<HubDatabase>();

    [Fact]
    public async Task Stored_numbers_are_re_normalised_once_in_batches_and_erased_calls_stay_erased()
    {
        var upgrade = Factory.Services.GetRequiredService<PhoneNumberUpgrade>();
        await upgrade.StartupRun.WaitAsync(Timeout);
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM data_upgrades WHERE name = @Name", new { PhoneNumberUpgrade.Name }));

        var (tenantId, crm) = await CreateTenantAsync(Factory, "Berlin GmbH");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { default_country_code = "49" }), HttpStatusCode.OK);
        await InsertOldContactAsync(tenantId, "de-bare", "4915123456789", ("+494915123456789", "4915123456789"));
        await InsertOldContactAsync(tenantId, "de-tel", "tel:+4930123456");
        await InsertOldContactAsync(tenantId, "de-ok", "+49 30 1234 5678", ("+493012345678", "3012345678"));
        var start = DateTimeOffset.UtcNow;
        await SeedCall.InsertAsync(Factory, tenantId,
            new SeedCall("bare", start) { FromNumber = "4915123456789", RemoteNumber = "+494915123456789" },
            new SeedCall("tel", start) { Direction = "outbound", FromNumber = null, ToNumber = "tel:+4930123456", RemoteNumber = "tel:+4930123456" },
            new SeedCall("no-start-event", start) { Direction = null, FromNumber = null, RemoteNumber = "tel:+4930123456;ext=5" },
            new SeedCall("ok", start) { FromNumber = "030 1234 5678", RemoteNumber = "+493012345678" },
            new SeedCall("erased", start) { FromNumber = "4915123456789", RemoteNumber = "+494915123456789" });
        await ExecuteAsync("UPDATE calls SET from_number = 'erased', remote_number = 'erased', erased_at = 1 WHERE call_id = 'erased'");
        await ExecuteAsync("DELETE FROM data_upgrades");
        upgrade.BatchSize = 2;

        using var timeout = new CancellationTokenSource(Timeout);
        Assert.True(await upgrade.RunOnceAsync(timeout.Token));

        Assert.Equal(
            ["de-bare +4915123456789 15123456789", "de-ok +493012345678 3012345678", "de-tel +4930123456 30123456"],
            await ListAsync<string>("SELECT external_id || ' ' || canonical || ' ' || national FROM contact_phones WHERE tenant_id = @tenantId ORDER BY external_id", new { tenantId }));
        Assert.Equal(
            ["bare +4915123456789", "erased erased", "no-start-event +4930123456", "ok +493012345678", "tel +4930123456"],
            await ListAsync<string>("SELECT call_id || ' ' || remote_number FROM calls WHERE tenant_id = @tenantId ORDER BY call_id", new { tenantId }));
        var found = await ReadAsync(await crm.GetAsync("/api/v1/contacts?phone=" + Uri.EscapeDataString("+49 151 23456789")), HttpStatusCode.OK);
        Assert.Equal("de-bare", Assert.Single(found.AsArray())!["external_id"]!.GetValue<string>());

        // Recorded as done: it does not run again; and a pass over upgraded rows finds nothing to change.
        Assert.False(await upgrade.RunOnceAsync(timeout.Token));
        Assert.Equal((0, 0), await upgrade.ReNormaliseAsync(timeout.Token));
    }

    private async Task InsertOldContactAsync(string tenantId, string externalId, string phone, params (string Canonical, string National)[] stored)
    {
        await ExecuteAsync(
            "INSERT INTO contacts (tenant_id, external_id, display_name, phones, updated_at) VALUES (@tenantId, @externalId, @externalId, @phones, 1)",
            new { tenantId, externalId, phones = System.Text.Json.JsonSerializer.Serialize(new[] { phone }) });
        await ExecuteAsync(
            "INSERT INTO contact_phones (tenant_id, external_id, canonical, national) VALUES (@tenantId, @externalId, @Canonical, @National)",
            stored.Select(row => new { tenantId, externalId, row.Canonical, row.National }));
    }

    private async Task ExecuteAsync(string sql, object? args = null)
    {
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync(sql, args);
    }

    private async Task<T> ScalarAsync<T>(string sql, object args)
    {
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<T>(sql, args) ?? throw new InvalidOperationException("no value: " + sql);
    }

    private async Task<List<T>> ListAsync<T>(string sql, object args)
    {
        await using var connection = await Database.OpenAsync(CancellationToken.None);
        return (await connection.QueryAsync<T>(sql, args)).ToList();
    }
}

public sealed class SqlitePhoneNumberUpgradeTests : PhoneNumberUpgradeTests
{
    protected override Task<HubApiFactory> CreateFactoryAsync() => Task.FromResult(new HubApiFactory());
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresPhoneNumberUpgradeTests(PostgresFixture postgres) : PhoneNumberUpgradeTests
{
    protected override async Task<HubApiFactory> CreateFactoryAsync() => new(new HubTopology(Postgres: await postgres.CreateDatabaseAsync()));
}
