using Hub.Store;
using Hub.Tests.Auth;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hub.Tests.Security;

/// <summary>The key ring's certificate on the production store: nodes starting together, and a stranger among them.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresKeyRingProtectionTests(PostgresFixture postgres)
{
    private async Task<HubDatabase> MigratedStoreAsync()
    {
        var store = HubDatabase.ForPostgres(await postgres.CreateDatabaseAsync());
        await new Migrator(store, NullLogger<Migrator>.Instance).ApplyAsync(CancellationToken.None);
        return store;
    }

    [Fact]
    public async Task Nodes_starting_together_on_postgres_encrypt_a_plaintext_ring_once_and_still_decrypt_what_it_protected()
    {
        await using var store = await MigratedStoreAsync();
        string protectedSecret;
        await using (var legacy = KeyRingNodes.PlaintextNode(store))
        {
            KeyRingNodes.CreatePlaintextKey(legacy);
            protectedSecret = KeyRingNodes.Protector(legacy).Protect("hub_embed_secret-from-before");
        }

        var nodes = Enumerable.Range(0, 3).Select(_ => KeyRingNodes.Node(store)).ToList();
        try
        {
            await Task.WhenAll(nodes.Select(KeyRingNodes.StartAsync));

            KeyRingAssert.Encrypted(Assert.Single(await KeyRingNodes.StoredXmlAsync(store)));
            Assert.All(nodes, node => Assert.Equal("hub_embed_secret-from-before", KeyRingNodes.Protector(node).Unprotect(protectedSecret)));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task On_postgres_a_new_key_is_encrypted_and_a_node_with_another_certificate_refuses_to_start()
    {
        await using var store = await MigratedStoreAsync();
        await using var first = KeyRingNodes.Node(store);
        await KeyRingNodes.StartAsync(first);
        KeyRingAssert.Encrypted(Assert.Single(await KeyRingNodes.StoredXmlAsync(store)));

        await using var stranger = KeyRingNodes.Node(store, TestKeyRing.NewCertificate());
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => KeyRingNodes.StartAsync(stranger));

        KeyRingAssert.NamesTheCertificateSetting(refused);
        Assert.Equal(1, await KeyRingNodes.CountKeysAsync(store));
    }
}
