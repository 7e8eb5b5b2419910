using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hub.Api.Auth.Jwt;

public enum JwtRefusal { None, Expired, Invalid }

/// <param name="Token">The validated token; null when refused.</param>
/// <param name="Detail">Why it was refused, in words safe to show its sender.</param>
public sealed record JwtCheck(JsonWebToken? Token, JwtRefusal Refusal, string? Detail);

/// <summary>
/// Hub's HS256 JWTs (embed and SSO tokens) on <see cref="JsonWebTokenHandler"/>, which signs, parses, verifies
/// the signature and checks issuer, audience and lifetime. What the handler lets through and Hub refuses is
/// checked here on the signed bytes, after the signature: a <c>crit</c> header, duplicate member names (the
/// handler silently keeps the last), registered claims of the wrong JSON type (it reads a string <c>exp</c> as
/// a date), an <c>iat</c> in the future.
/// </summary>
public static class HubJwt
{
    /// <summary>Hub's tokens are a few hundred bytes; the handler's own limit is 250 kB.</summary>
    public const int MaxTokenLength = 8 * 1024;

    private static readonly JsonWebTokenHandler Handler = new()
    {
        MaximumTokenSizeInBytes = MaxTokenLength,
        // Only the times the caller chose, from its clock: no nbf from the system clock.
        SetDefaultTimesOnTokenCreation = false,
    };

    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false, MaxDepth = 32 };

    private static readonly string[] StringClaims = ["iss", "sub", "jti", "role"];

    private static readonly string[] DateClaims = ["exp", "nbf", "iat"];

    public static SigningCredentials Credentials(byte[] secret, string keyId) =>
        new(new SymmetricSecurityKey(secret) { KeyId = keyId }, SecurityAlgorithms.HmacSha256);

    public static string Create(SecurityTokenDescriptor descriptor) => Handler.CreateToken(descriptor);

    /// <summary>
    /// The <c>kid</c>, read WITHOUT verifying anything, only to pick the key; null if absent. False when the
    /// handler cannot read the token at all.
    /// </summary>
    public static bool TryReadKeyId(string token, out string? keyId)
    {
        keyId = null;
        if (!Handler.CanReadToken(token))
        {
            return false;
        }

        try
        {
            keyId = Handler.ReadJsonWebToken(token).Kid is { Length: > 0 } kid ? kid : null;
            return true;
        }
        catch (ArgumentException)
        {
            // The handler's malformed-token exceptions derive from it.
            return false;
        }
    }

    /// <summary>
    /// Validates with the one key its kid resolved to: HS256 only, <c>exp</c> required, <c>exp</c>, <c>nbf</c>
    /// and <c>iat</c> checked against <paramref name="clock"/> with <paramref name="skew"/>, exactly one audience.
    /// </summary>
    public static async Task<JwtCheck> ValidateAsync(string token, byte[] secret, string keyId, string issuer, Func<string, bool> isValidAudience,
        TimeProvider clock, TimeSpan skew)
    {
        var parameters = new TokenValidationParameters
        {
            // The token never chooses how it is verified: no "none", no other HMAC, no RS/HS confusion.
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            IssuerSigningKey = new SymmetricSecurityKey(secret) { KeyId = keyId },
            TryAllIssuerSigningKeys = false,
            RequireSignedTokens = true,
            ValidIssuer = issuer,
            AudienceValidator = (audiences, _, _) => audiences.ToList() is [var audience] && isValidAudience(audience),
            ClockSkew = skew,
            // The handler's own lifetime check reads the system clock; Hub's clock is injected (tests move it).
            LifetimeValidator = (notBefore, expires, securityToken, _) => CheckLifetime(notBefore, expires, securityToken, clock.GetUtcNow().UtcDateTime, skew),
        };

        var result = await Handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken validated)
        {
            return result.Exception is SecurityTokenExpiredException
                ? new JwtCheck(null, JwtRefusal.Expired, "The token has expired.")
                : new JwtCheck(null, JwtRefusal.Invalid, Describe(result.Exception));
        }

        return StrictnessError(validated) is { } detail
            ? new JwtCheck(null, JwtRefusal.Invalid, detail)
            : new JwtCheck(validated, JwtRefusal.None, null);
    }

    private static bool CheckLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, DateTime now, TimeSpan skew)
    {
        // Differences, not skew added to the token's dates, which could overflow.
        if (expires is not { } exp)
        {
            throw new SecurityTokenNoExpirationException("exp is required.");
        }

        if (now - exp > skew)
        {
            throw new SecurityTokenExpiredException("The token has expired.") { Expires = exp };
        }

        if (notBefore is { } nbf && nbf - now > skew)
        {
            throw new SecurityTokenNotYetValidException("The token is not valid yet (nbf).") { NotBefore = nbf };
        }

        // The handler does not look at iat; a token from the future is a forged clock or a broken one.
        if (token is JsonWebToken { IssuedAt: var iat } && iat - now > skew)
        {
            throw new SecurityTokenNotYetValidException("The token was issued in the future (iat).") { NotBefore = iat };
        }

        return true;
    }

    /// <summary>The handler's messages carry internal key ids and hidden-PII markers: a sender gets these words instead.</summary>
    private static string Describe(Exception? refusal) => refusal switch
    {
        SecurityTokenNoExpirationException or SecurityTokenNotYetValidException => refusal.Message,
        SecurityTokenInvalidIssuerException => "The token's iss is not acceptable for its signing key.",
        SecurityTokenInvalidAudienceException => "The token's aud is not acceptable for its signing key (exactly one audience).",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException or SecurityTokenInvalidAlgorithmException =>
            "The signature is not an HS256 signature by the key its kid names.",
        _ => "The token is not a well-formed JWT.",
    };

    private static string? StrictnessError(JsonWebToken token)
    {
        using var header = Parse(token.EncodedHeader);
        using var payload = Parse(token.EncodedPayload);
        if (header is null || payload is null)
        {
            return "The token's header and payload must be JSON objects without duplicate member names.";
        }

        // RFC 7515 §4.1.11: an extension marked critical that we do not implement (we implement none) means refuse.
        if (header.RootElement.TryGetProperty("crit", out _))
        {
            return "The crit header parameter is not supported.";
        }

        if (header.RootElement.TryGetProperty("typ", out var typ)
            && !(typ.ValueKind == JsonValueKind.String && string.Equals(typ.GetString(), "JWT", StringComparison.OrdinalIgnoreCase)))
        {
            return "typ must be JWT.";
        }

        foreach (var claim in payload.RootElement.EnumerateObject())
        {
            if ((StringClaims.Contains(claim.Name) && claim.Value.ValueKind != JsonValueKind.String)
                || (DateClaims.Contains(claim.Name) && claim.Value.ValueKind != JsonValueKind.Number))
            {
                return $"Claim '{claim.Name}' has the wrong JSON type.";
            }
        }

        return null;
    }

    private static JsonDocument? Parse(string encoded)
    {
        try
        {
            var document = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(encoded), StrictJson);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return document;
            }

            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
