using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Hub.Store.DataProtection;

/// <summary>
/// The certificate new keys of the ring are protected with (<see cref="Current"/>), and those of earlier
/// rotations whose keys must still decrypt (<see cref="Previous"/>).
/// </summary>
/// <param name="Created">This process created <see cref="Path"/>: it is new and must be backed up.</param>
internal sealed record KeyRingCertificates(X509Certificate2 Current, string Path, bool Created, IReadOnlyList<X509Certificate2> Previous)
{
    public const string CertificateSetting = "Hub:DataProtection:Certificate";
    public const string PreviousSetting = "Hub:DataProtection:PreviousCertificates";

    // macOS has no ephemeral keys; elsewhere the private key stays in memory, never in a user key store.
    private static readonly X509KeyStorageFlags StorageFlags =
        OperatingSystem.IsMacOS() ? X509KeyStorageFlags.DefaultKeySet : X509KeyStorageFlags.EphemeralKeySet;

    public static KeyRingCertificates Load(HubSettings settings)
    {
        var options = settings.DataProtection;
        var path = options.CertificatePath(settings.DataDirectory);
        var created = !File.Exists(path) && KeyRingCertificateFile.TryCreate(path, options.CertificatePassword);
        var current = Open(path, options.CertificatePassword, CertificateSetting);
        var previous = options.PreviousCertificates
            .Where(file => !string.IsNullOrWhiteSpace(file))
            .Select((file, index) => OpenPrevious(System.IO.Path.GetFullPath(file), options.CertificatePassword, $"{PreviousSetting}:{index}"))
            .ToList();
        return new KeyRingCertificates(current, path, created, previous);
    }

    private static X509Certificate2 OpenPrevious(string path, string? password, string setting)
    {
        if (password is not null)
        {
            try
            {
                return Open(path, password, setting);
            }
            catch (InvalidOperationException exception) when (exception.InnerException is CryptographicException)
            {
                // Documented: a previous certificate may have no password even when the current one has.
            }
        }

        return Open(path, null, setting);
    }

    private static X509Certificate2 Open(string path, string? password, string setting)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password, StorageFlags);
        }
        catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"{setting}: cannot open the PFX file {path} ({exception.Message}). Check the path and Hub:DataProtection:CertificatePassword.",
                exception);
        }

        using var rsa = certificate.GetRSAPublicKey();
        if (!certificate.HasPrivateKey || rsa is null)
        {
            certificate.Dispose();
            throw new InvalidOperationException($"{setting}: {path} must hold an RSA certificate with its private key.");
        }

        return certificate;
    }
}
