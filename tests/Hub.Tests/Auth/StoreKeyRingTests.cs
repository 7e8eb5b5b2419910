using Dapper;
using Hub.Api.Infrastructure;
using Hub.Api.SigningKeys;
using Hub.Store;
using Hub.Store.DataProtection;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hub.Tests.Auth;

/// <summary>The Data Protection key ring in the store: what one Api node encrypts, another decrypts.</summary>
internal static class KeyRingNodes
{
    /// <summary>
    /// One Api node's Data Protection and signing keys, over its own connection to the shared store, with the test
    /// run's key ring certificate unless given another (and certificates of earlier rotations).
    /// </summary>
    public static ServiceProvider Node(HubDatabase database, string? certificate = null, string? password = null, params string[] previous)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Hub:DataProtection:Certificate"] = certificate ?? TestKeyRing.SharedCertificate,
            ["Hub:DataProtection:CertificatePassword"] = password,
        };
        for (var index = 0; index < previous.Length; index++)
        {
            settings[$"Hub:DataProtection:PreviousCertificates:{index}"] = previous[index];
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(database);
        services.AddSingleton(TimeProvider.System);
        services.AddHubDataProtection(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddHubSigningKeys();
        return services.BuildServiceProvider();
    }

    /// <summary>A node of a version before the key ring was encrypted: Data Protection over the store, no certificate.</summary>
    public static ServiceProvider PlaintextNode(HubDatabase database)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(database);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<StoreXmlRepository>();
        services.AddDataProtection().SetApplicationName("Hub");
        services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((options, provider) =>
            options.XmlRepository = provider.GetRequiredService<StoreXmlRepository>());
        return services.BuildServiceProvider();
    }

    /// <summary>What a plaintext node did at its first start: one active key, in plain XML.</summary>
    public static void CreatePlaintextKey(ServiceProvider plaintextNode)
    {
        var now = DateTimeOffset.UtcNow;
        plaintextNode.GetRequiredService<IKeyManager>().CreateNewKey(now, now.AddDays(90));
    }

    public static async Task<List<string>> StoredXmlAsync(HubDatabase database)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        return (await connection.QueryAsync<string>("SELECT xml FROM data_protection_keys")).ToList();
    }

    public static Task StartAsync(ServiceProvider node) =>
        node.GetServices<IHostedService>().OfType<KeyRingBootstrap>().Single().StartAsync(CancellationToken.None);

    public static IDataProtector Protector(ServiceProvider node) =>
        node.GetRequiredService<IDataProtectionProvider>().CreateProtector(EmbedSigningKeys.ProtectorPurpose);

    public static async Task<long> CountKeysAsync(HubDatabase database)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM data_protection_keys WHERE name LIKE 'key-%'");
    }

    public static async Task<string> CreateTenantAsync(HubDatabase database)
    {
        var id = Ids.NewTenantId();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync("INSERT INTO tenants (id, name, is_master, created_at) VALUES (@id, 'T', 0, 0)", new { id });
        return id;
    }
}

public sealed class StoreKeyRingTests : IDisposable
{
    private readonly TemporaryStore _store = new();

    public void Dispose() => _store.Dispose();

    private Task<HubDatabase> MigratedStoreAsync() => _store.MigratedAsync();

    [Fact]
    public async Task A_second_provider_over_the_same_store_unprotects_what_the_first_protected()
    {
        await using var store = await MigratedStoreAsync();
        // Two nodes, each with its own connection to the same file, starting together on an empty ring.
        await using var databaseA = HubDatabase.ForSqlite(_store.DatabasePath);
        await using var databaseB = HubDatabase.ForSqlite(_store.DatabasePath);
        await using var nodeA = KeyRingNodes.Node(databaseA);
        await using var nodeB = KeyRingNodes.Node(databaseB);

        await Task.WhenAll(KeyRingNodes.StartAsync(nodeA), KeyRingNodes.StartAsync(nodeB));
        var fromA = KeyRingNodes.Protector(nodeA).Protect("hub_embed_secret-of-node-a");
        var fromB = KeyRingNodes.Protector(nodeB).Protect("hub_embed_secret-of-node-b");

        Assert.Equal(1, await KeyRingNodes.CountKeysAsync(store));
        Assert.Equal("hub_embed_secret-of-node-a", KeyRingNodes.Protector(nodeB).Unprotect(fromA));
        Assert.Equal("hub_embed_secret-of-node-b", KeyRingNodes.Protector(nodeA).Unprotect(fromB));
    }

    [Fact]
    public async Task A_protected_secret_copied_to_another_tenants_row_does_not_decrypt()
    {
        await using var store = await MigratedStoreAsync();
        await using var node = KeyRingNodes.Node(store);
        await KeyRingNodes.StartAsync(node);
        var keys = node.GetRequiredService<EmbedSigningKeys>();
        var victim = await keys.CreateAsync(await KeyRingNodes.CreateTenantAsync(store), CancellationToken.None);
        var attacker = await keys.CreateAsync(await KeyRingNodes.CreateTenantAsync(store), CancellationToken.None);

        await using (var connection = await store.OpenAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync(
                "UPDATE embed_signing_keys SET secret_protected = (SELECT secret_protected FROM embed_signing_keys WHERE id = @attacker) WHERE id = @victim",
                new { attacker = attacker.Id, victim = victim.Id });
        }

        Assert.Equal(EmbedSigningKeys.HmacKey(attacker.Secret), (await keys.FindAsync(attacker.Id, CancellationToken.None))!.HmacKey);
        await Assert.ThrowsAsync<InvalidOperationException>(() => keys.FindAsync(victim.Id, CancellationToken.None));
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresKeyRingTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Nodes_starting_together_on_postgres_share_one_key_and_read_each_others_signing_keys()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var store = HubDatabase.ForPostgres(connectionString);
        await new Migrator(store, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);
        var databases = Enumerable.Range(0, 4).Select(_ => HubDatabase.ForPostgres(connectionString)).ToList();
        var nodes = databases.Select(database => KeyRingNodes.Node(database)).ToList();
        try
        {
            await Task.WhenAll(nodes.Select(KeyRingNodes.StartAsync));
            var tenantId = await KeyRingNodes.CreateTenantAsync(store);
            var created = await nodes[0].GetRequiredService<EmbedSigningKeys>().CreateAsync(tenantId, CancellationToken.None);

            Assert.Equal(1, await KeyRingNodes.CountKeysAsync(store));
            foreach (var node in nodes.Skip(1))
            {
                var found = await node.GetRequiredService<EmbedSigningKeys>().FindAsync(created.Id, CancellationToken.None);
                Assert.Equal(tenantId, found!.TenantId);
                Assert.Equal(EmbedSigningKeys.HmacKey(created.Secret), found.HmacKey);
            }
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            foreach (var database in databases)
            {
                await database.DisposeAsync();
            }
        }
    }
}
