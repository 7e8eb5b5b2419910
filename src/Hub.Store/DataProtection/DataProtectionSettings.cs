namespace Hub.Store.DataProtection;

/// <summary>
/// <c>Hub__DataProtection__*</c>: the certificate that encrypts the Data Protection key ring in the store, so
/// that reading the database alone does not reveal the keys that protect webhook and embed signing secrets.
/// Every process of one deployment (Api nodes and workers) must be given the same certificate.
/// </summary>
public sealed class DataProtectionSettings
{
    /// <summary>The default certificate file name, in <see cref="HubSettings.DataDirectory"/>.</summary>
    public const string DefaultFileName = "data-protection.pfx";

    /// <summary>
    /// Path to a PFX file (certificate with its RSA private key). Default <c>&lt;DataDirectory&gt;/data-protection.pfx</c>.
    /// When the file does not exist a self-signed certificate is created there; back it up with the database.
    /// </summary>
    public string? Certificate { get; set; }

    /// <summary>
    /// Password of the PFX files. Optional; it is also tried for each of <see cref="PreviousCertificates"/>, which
    /// are opened without a password when it does not fit them.
    /// </summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// PFX files of certificates used before <see cref="Certificate"/> (after a rotation): keys protected with them
    /// still decrypt; new keys are protected with <see cref="Certificate"/> only. These files are never created.
    /// </summary>
    public string[] PreviousCertificates { get; set; } = [];

    public string CertificatePath(string dataDirectory) =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(Certificate) ? Path.Combine(dataDirectory, DefaultFileName) : Certificate);
}
