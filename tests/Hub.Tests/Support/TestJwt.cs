using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hub.Tests.Support;

/// <summary>
/// Tokens as the hub's callers make them. <see cref="Mint"/> is a CRM backend with a JWT library (its
/// <c>jwt.sign</c>); <see cref="Sign"/> is the attacker's tool: any header and payload text, MACed with any key
/// and hash, written without a JWT library so the tests can send what no library would mint.
/// </summary>
internal static class TestJwt
{
    private static readonly JsonWebTokenHandler Library = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>An HS256 JWT with these claims (null ones left out); no <c>kid</c> header when <paramref name="keyId"/> is null.</summary>
    public static string Mint(byte[] secret, string? keyId, string? iss, string? aud, string? sub, string? jti, DateTimeOffset? iat, DateTimeOffset? exp,
        string? role = null)
    {
        var claims = new Dictionary<string, object?>
        {
            ["iss"] = iss, ["aud"] = aud, ["sub"] = sub, ["jti"] = jti, ["role"] = role,
            ["iat"] = iat?.ToUnixTimeSeconds(), ["exp"] = exp?.ToUnixTimeSeconds(),
        };
        return Library.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims.Where(claim => claim.Value is not null).ToDictionary(claim => claim.Key, claim => claim.Value!),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(secret) { KeyId = keyId }, SecurityAlgorithms.HmacSha256),
        });
    }

    public static string B64(byte[] bytes) => Base64Url.EncodeToString(bytes);

    public static string B64(string json) => B64(Encoding.UTF8.GetBytes(json));

    /// <summary>Header and payload exactly as given, then the MAC of both by <paramref name="mac"/> (HMAC-SHA256 unless said).</summary>
    public static string Sign(string headerJson, string payloadJson, byte[] key, Func<byte[], byte[], byte[]>? mac = null)
    {
        var signingInput = B64(headerJson) + "." + B64(payloadJson);
        return signingInput + "." + B64((mac ?? HMACSHA256.HashData)(key, Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>The <c>kid</c> in a token's header, read as any client could.</summary>
    public static string? KidOf(string token)
    {
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(token.Split('.')[0]));
        return header.RootElement.TryGetProperty("kid", out var kid) ? kid.GetString() : null;
    }

    /// <summary>Whether the token's signature is the HMAC-SHA256 of its signing input with <paramref name="key"/>.</summary>
    public static bool VerifiesWith(string token, byte[] key)
    {
        var lastDot = token.LastIndexOf('.');
        var expected = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(token[..lastDot]));
        return B64(expected) == token[(lastDot + 1)..];
    }
}
