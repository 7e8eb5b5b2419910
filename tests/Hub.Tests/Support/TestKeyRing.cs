using Hub.Store.DataProtection;

namespace Hub.Tests.Support;

/// <summary>
/// Key ring certificates for test hosts. Every host of the test run gets <see cref="SharedCertificate"/> by
/// default, as every process of one deployment shares one; tests of the certificate itself make their own.
/// </summary>
public static class TestKeyRing
{
    private static readonly Lazy<string> Shared = new(() => NewCertificate(), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The path of a PFX created once per test run.</summary>
    public static string SharedCertificate => Shared.Value;

    /// <summary>Creates a certificate of its own (another deployment's) and returns its path.</summary>
    public static string NewCertificate(string? password = null)
    {
        var path = Path.Combine(Path.GetTempPath(), "hub-tests", $"keyring-{Guid.NewGuid():N}", DataProtectionSettings.DefaultFileName);
        Assert.True(KeyRingCertificateFile.TryCreate(path, password), $"{path} existed already");
        return path;
    }
}
