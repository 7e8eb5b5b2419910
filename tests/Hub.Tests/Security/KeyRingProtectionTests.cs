using System.Security.Cryptography.X509Certificates;
using Hub.Api.SigningKeys;
using Hub.Store;
using Hub.Store.DataProtection;
using Hub.Tests.Auth;
using Hub.Tests.Support;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hub.Tests.Security;

/// <summary>
/// The Data Protection key ring in the store is encrypted with a certificate that is not in the store, so reading the
/// database alone decrypts no webhook or embed signing key secret.
/// </summary>
public sealed class KeyRingProtectionTests : IDisposable
{
    private readonly TemporaryStore _store = new();

    public void Dispose() => _store.Dispose();

    private Task<HubDatabase> MigratedStoreAsync() => _store.MigratedAsync();

    [Fact]
    public async Task A_new_key_is_stored_with_its_master_key_encrypted()
    {
        await using var store = await MigratedStoreAsync();
        await using var node = KeyRingNodes.Node(store);
        await KeyRingNodes.StartAsync(node);
        var protectedSecret = KeyRingNodes.Protector(node).Protect("hub_embed_secret");

        var stored = Assert.Single(await KeyRingNodes.StoredXmlAsync(store));
        KeyRingAssert.Encrypted(stored);
        Assert.Equal("hub_embed_secret", KeyRingNodes.Protector(node).Unprotect(protectedSecret));
    }

    [Fact]
    public async Task A_key_stored_in_plain_xml_is_encrypted_at_the_next_start_and_what_it_protected_still_decrypts()
    {
        await using var store = await MigratedStoreAsync();
        string protectedSecret;
        await using (var legacy = KeyRingNodes.PlaintextNode(store))
        {
            KeyRingNodes.CreatePlaintextKey(legacy);
            protectedSecret = KeyRingNodes.Protector(legacy).Protect("hub_embed_secret-from-before");
        }

        Assert.Contains("masterKey", Assert.Single(await KeyRingNodes.StoredXmlAsync(store)), StringComparison.Ordinal);

        await using var node = KeyRingNodes.Node(store);
        await KeyRingNodes.StartAsync(node);

        KeyRingAssert.Encrypted(Assert.Single(await KeyRingNodes.StoredXmlAsync(store)));
        Assert.Equal("hub_embed_secret-from-before", KeyRingNodes.Protector(node).Unprotect(protectedSecret));
    }

    [Fact]
    public async Task A_node_with_another_certificate_refuses_to_start_naming_the_setting_and_creates_no_key()
    {
        await using var store = await MigratedStoreAsync();
        await using var first = KeyRingNodes.Node(store);
        await KeyRingNodes.StartAsync(first);

        await using var stranger = KeyRingNodes.Node(store, TestKeyRing.NewCertificate());
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => KeyRingNodes.StartAsync(stranger));

        KeyRingAssert.NamesTheCertificateSetting(refused);
        Assert.Equal(1, await KeyRingNodes.CountKeysAsync(store));
    }

    [Fact]
    public async Task A_node_with_another_certificate_does_not_encrypt_a_plaintext_ring_with_it_once_the_ring_is_encrypted()
    {
        await using var store = await MigratedStoreAsync();
        await using (var legacy = KeyRingNodes.PlaintextNode(store))
        {
            KeyRingNodes.CreatePlaintextKey(legacy);
        }

        await using var first = KeyRingNodes.Node(store);
        await KeyRingNodes.StartAsync(first);
        var encrypted = Assert.Single(await KeyRingNodes.StoredXmlAsync(store));

        await using var stranger = KeyRingNodes.Node(store, TestKeyRing.NewCertificate());
        KeyRingAssert.NamesTheCertificateSetting(await Assert.ThrowsAsync<InvalidOperationException>(() => KeyRingNodes.StartAsync(stranger)));
        Assert.Equal(encrypted, Assert.Single(await KeyRingNodes.StoredXmlAsync(store)));
    }

    [Fact]
    public async Task After_a_rotation_keys_of_the_previous_certificate_decrypt_only_while_it_is_listed()
    {
        await using var store = await MigratedStoreAsync();
        var previous = TestKeyRing.NewCertificate();
        string protectedSecret;
        await using (var before = KeyRingNodes.Node(store, previous))
        {
            await KeyRingNodes.StartAsync(before);
            protectedSecret = KeyRingNodes.Protector(before).Protect("hub_embed_secret-before-rotation");
        }

        // The new certificate has a password; the previous one has none, and is opened without it.
        const string password = "rotated-certificate-password";
        var current = TestKeyRing.NewCertificate(password);
        await using var rotated = KeyRingNodes.Node(store, current, password, previous);
        await KeyRingNodes.StartAsync(rotated);
        Assert.Equal("hub_embed_secret-before-rotation", KeyRingNodes.Protector(rotated).Unprotect(protectedSecret));

        await using var forgotten = KeyRingNodes.Node(store, current, password);
        KeyRingAssert.NamesTheCertificateSetting(await Assert.ThrowsAsync<InvalidOperationException>(() => KeyRingNodes.StartAsync(forgotten)));
    }

    [Fact]
    public void Creating_the_certificate_where_another_process_just_did_keeps_theirs()
    {
        var path = Path.Combine(_store.Directory, "keys", DataProtectionSettings.DefaultFileName);

        var created = Enumerable.Range(0, 4).AsParallel().Select(_ => KeyRingCertificateFile.TryCreate(path, null)).ToList();
        var winner = File.ReadAllBytes(path);

        Assert.Equal(1, created.Count(wasCreated => wasCreated));
        Assert.False(KeyRingCertificateFile.TryCreate(path, null));
        Assert.Equal(winner, File.ReadAllBytes(path));
        Assert.Equal([DataProtectionSettings.DefaultFileName], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task The_embedded_default_encrypts_its_ring_with_a_certificate_it_creates_in_the_data_directory_for_its_owner_only()
    {
        // An empty setting is what an operator who sets nothing gets: the default path.
        using var hub = new HubApiFactory(new HubTopology(Settings: new Dictionary<string, string> { ["Hub:DataProtection:Certificate"] = "" }));
        _ = hub.Server;

        var path = Path.Combine(hub.DataDirectory, DataProtectionSettings.DefaultFileName);
        Assert.True(File.Exists(path), $"{path} was not created");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, null);
        await using var store = HubDatabase.ForSqlite(Path.Combine(hub.DataDirectory, "hub.db"));
        var stored = Assert.Single(await KeyRingNodes.StoredXmlAsync(store));
        KeyRingAssert.Encrypted(stored);
        // XML encryption names the certificate the key was encrypted for.
        Assert.Contains(Convert.ToBase64String(certificate.RawData), stored, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hub_with_another_certificate_than_its_store_refuses_to_start()
    {
        using var first = new HubApiFactory();
        _ = first.Server;

        using var stranger = new HubApiFactory(new HubTopology(Settings: new Dictionary<string, string>
        {
            ["Hub:DataDirectory"] = first.DataDirectory,
            ["Hub:DataProtection:Certificate"] = TestKeyRing.NewCertificate(),
        }));
        var refused = Record.Exception(() => stranger.Server);

        Assert.NotNull(refused);
        KeyRingAssert.NamesTheCertificateSetting(refused);
    }
}

internal static class KeyRingAssert
{
    /// <summary>No master key in the clear: it is inside Data Protection's encryptedSecret, as XML encryption.</summary>
    public static void Encrypted(string storedXml)
    {
        Assert.Contains("encryptedSecret", storedXml, StringComparison.Ordinal);
        Assert.Contains("EncryptedData", storedXml, StringComparison.Ordinal);
        Assert.DoesNotContain("masterKey", storedXml, StringComparison.Ordinal);
        Assert.DoesNotContain("requiresEncryption", storedXml, StringComparison.Ordinal);
    }

    public static void NamesTheCertificateSetting(Exception exception)
    {
        var refusal = Flatten(exception).OfType<InvalidOperationException>().FirstOrDefault(e => e.Message.Contains("cannot decrypt", StringComparison.Ordinal));
        Assert.True(refusal is not null, $"No refusal naming the certificate in: {exception}");
        Assert.Contains("Hub:DataProtection:Certificate", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("Hub__DataProtection__Certificate", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("Every process of a deployment", refusal.Message, StringComparison.Ordinal);
    }

    private static IEnumerable<Exception> Flatten(Exception exception)
    {
        yield return exception;
        var inner = exception is AggregateException aggregate ? aggregate.InnerExceptions : exception.InnerException is { } one ? [one] : [];
        foreach (var nested in inner.SelectMany(Flatten))
        {
            yield return nested;
        }
    }
}
