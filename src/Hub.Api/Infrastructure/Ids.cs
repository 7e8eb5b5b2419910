using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Hub.Api.Infrastructure;

public static partial class Ids
{
    /// <summary>Tenant ids are 32 lowercase hex characters, as Kazoo account ids are.</summary>
    public static string NewTenantId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static bool IsTenantId(string? value) => value is not null && TenantIdPattern().IsMatch(value);

    /// <summary>Agent ids come from the CRM; keep them printable and bounded so they are safe in keys and logs.</summary>
    public static bool IsAgentId(string? value) => value is not null && AgentIdPattern().IsMatch(value);

    /// <summary>A random secret with a recognisable prefix (so leaked keys can be found by scanners).</summary>
    public static string NewSecret(string prefix) =>
        prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Sha256(string value) =>
        Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(value)));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex TenantIdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9._@+\-]{1,128}$")]
    private static partial Regex AgentIdPattern();
}
