using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Hub.Store.DataProtection;

/// <summary>Creates the self-signed certificate that protects the key ring when none exists yet.</summary>
internal static class KeyRingCertificateFile
{
    // It only wraps keys (it identifies no one), so an expiry would add an outage and no security.
    private static readonly TimeSpan Validity = TimeSpan.FromDays(100 * 365);

    /// <summary>
    /// Writes a new PFX at <paramref name="path"/> unless a file is there. Returns false when another process
    /// (a second node on the same volume) created it first: the caller then loads theirs, so both share one.
    /// </summary>
    public static bool TryCreate(string path, string? password)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var pfx = SelfSignedPfx(password);
        // A reader never sees a half-written file: the complete file appears under its name in one step.
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, OwnerOnly()))
            {
                stream.Write(pfx);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pfx);
            File.Delete(temporary);
        }
    }

    private static byte[] SelfSignedPfx(string? password)
    {
        using var rsa = RSA.Create(3072);
        var request = new CertificateRequest("CN=Hub Data Protection key ring", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment, critical: true));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now + Validity);
        return certificate.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, password);
    }

    private static FileStreamOptions OwnerOnly()
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            // Set at creation, so the private key is never readable by others, not even for a moment.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }
}
