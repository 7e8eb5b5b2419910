using System.Buffers;
using System.Buffers.Text;
using System.Collections.ObjectModel;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Hub.Api.Auth.Jwt;

public sealed record JwtClaims
{
    public string? Issuer { get; init; }
    public string? Audience { get; init; }
    public string? Subject { get; init; }
    public string? TokenId { get; init; }
    public DateTimeOffset? IssuedAt { get; init; }
    public DateTimeOffset? NotBefore { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public string? Role { get; init; }

    /// <summary>Every claim not mapped above, verbatim (cloned, so it outlives the parsed document).</summary>
    public IReadOnlyDictionary<string, JsonElement> Other { get; init; } = ReadOnlyDictionary<string, JsonElement>.Empty;
}

public enum JwtError { None, Malformed, UnsupportedAlgorithm, UnknownKey, BadSignature, Expired, NotYetValid, MissingClaim }

public sealed record JwtValidationResult(JwtError Error, string? Detail, JwtClaims? Claims, string? KeyId)
{
    public bool IsValid => Error == JwtError.None;
}

/// <summary>
/// A deliberately small, strict JWS/JWT (RFC 7515/7519) implementation for HS256 only.
/// Anything unusual is rejected rather than interpreted, because every leniency in a token parser is an attack surface.
/// </summary>
public static class Hs256Jwt
{
    public const int MaxTokenLength = 8 * 1024;

    /// <summary>RFC 7518 §3.2: an HS256 key MUST be at least as long as the hash output (256 bits).</summary>
    public const int MinKeyBytes = 32;

    private const string Algorithm = "HS256";

    // Registered names this class maps to properties; they may not appear in JwtClaims.Other.
    private static readonly HashSet<string> MappedClaims = new(StringComparer.Ordinal) { "iss", "aud", "sub", "jti", "iat", "nbf", "exp", "role" };

    // Duplicate member names are rejected at parse time: parsers disagreeing on "first wins" vs "last wins" is a classic confusion attack.
    private static readonly JsonDocumentOptions JsonOptions = new() { AllowDuplicateProperties = false, MaxDepth = 32 };

    // DateTimeOffset's range in Unix seconds; a numeric date outside it is Malformed rather than an exception.
    private static readonly decimal MinUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly decimal MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>Mints a token. Null claims are omitted; dates are written as whole seconds; Other is written in ordinal key order so output is deterministic.</summary>
    public static string Create(JwtClaims claims, ReadOnlySpan<byte> secret, string? keyId = null)
    {
        ArgumentNullException.ThrowIfNull(claims);
        if (secret.Length < MinKeyBytes)
            throw new ArgumentException($"An HS256 secret must be at least {MinKeyBytes} bytes.", nameof(secret));
        foreach (var name in claims.Other.Keys)
        {
            if (MappedClaims.Contains(name))
                throw new ArgumentException($"Claim '{name}' must be set through its property, not Other.", nameof(claims));
        }

        var header = EncodeJson(w =>
        {
            w.WriteString("alg", Algorithm);
            w.WriteString("typ", "JWT");
            if (keyId is not null) w.WriteString("kid", keyId);
        });
        var payload = EncodeJson(w =>
        {
            WriteIfNotNull(w, "iss", claims.Issuer);
            WriteIfNotNull(w, "sub", claims.Subject);
            WriteIfNotNull(w, "aud", claims.Audience);
            WriteIfNotNull(w, "exp", claims.ExpiresAt);
            WriteIfNotNull(w, "nbf", claims.NotBefore);
            WriteIfNotNull(w, "iat", claims.IssuedAt);
            WriteIfNotNull(w, "jti", claims.TokenId);
            WriteIfNotNull(w, "role", claims.Role);
            foreach (var (name, value) in claims.Other.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WritePropertyName(name);
                value.WriteTo(w);
            }
        });

        var signingInput = header + "." + payload;
        var signature = HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>
    /// Reads kid and claims WITHOUT verifying the signature, only so the caller can pick the key (e.g. per tenant by iss).
    /// Nothing read here may be trusted. Returns false if the token is malformed or its header would be rejected by Validate anyway.
    /// </summary>
    public static bool TryReadUnverified(string token, out string? keyId, out JwtClaims? claims)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (TrySplit(token, out var parts, out _)
            && ReadHeader(parts.Header, out keyId, out _) == JwtError.None
            && TryReadClaims(parts.Payload, out claims, out _))
        {
            return true;
        }

        keyId = null;
        claims = null;
        return false;
    }

    /// <summary>
    /// Full validation. Order matters: structure and header, then key, then signature, and only then the payload is parsed and its
    /// claims checked, so an unsigned or forged token never learns anything about claim validity (it always gets BadSignature).
    /// Claims are returned only when valid. iss/aud/sub/jti are NOT checked here: that is the caller's policy.
    /// </summary>
    public static JwtValidationResult Validate(string token, Func<string?, byte[]?> resolveKey, TimeProvider clock, TimeSpan clockSkew)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(resolveKey);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentOutOfRangeException.ThrowIfLessThan(clockSkew, TimeSpan.Zero);

        if (!TrySplit(token, out var parts, out var detail))
            return Fail(JwtError.Malformed, detail, null);

        var headerError = ReadHeader(parts.Header, out var keyId, out detail);
        if (headerError != JwtError.None)
            return Fail(headerError, detail, keyId);

        var key = resolveKey(keyId);
        if (key is null)
            return Fail(JwtError.UnknownKey, "No key for this kid.", keyId);
        if (key.Length < MinKeyBytes)
            return Fail(JwtError.UnknownKey, $"The resolved key is shorter than {MinKeyBytes} bytes; refusing to verify with it.", keyId);

        // The MAC covers the header and payload exactly as transmitted, not a re-encoding of them.
        var expected = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(token, 0, parts.SigningInputLength));
        if (!CryptographicOperations.FixedTimeEquals(expected, parts.Signature))
            return Fail(JwtError.BadSignature, "Signature does not match.", keyId);

        if (!TryReadClaims(parts.Payload, out var claims, out detail))
            return Fail(JwtError.Malformed, detail, keyId);

        // Compare differences rather than adding skew to attacker-supplied dates, which could overflow DateTimeOffset.
        var now = clock.GetUtcNow();
        if (claims.ExpiresAt is not { } exp)
            return Fail(JwtError.MissingClaim, "exp is required.", keyId);
        if (now - exp > clockSkew)
            return Fail(JwtError.Expired, "Token has expired.", keyId);
        if (claims.NotBefore is { } nbf && nbf - now > clockSkew)
            return Fail(JwtError.NotYetValid, "Token is not valid yet (nbf).", keyId);
        if (claims.IssuedAt is { } iat && iat - now > clockSkew)
            return Fail(JwtError.NotYetValid, "Token was issued in the future (iat).", keyId);

        return new JwtValidationResult(JwtError.None, null, claims, keyId);
    }

    private static JwtValidationResult Fail(JwtError error, string? detail, string? keyId) => new(error, detail, null, keyId);

    private readonly record struct Parts(byte[] Header, byte[] Payload, byte[] Signature, int SigningInputLength);

    private static bool TrySplit(string token, out Parts parts, out string? detail)
    {
        parts = default;
        if (token.Length > MaxTokenLength)
        {
            detail = $"Token is longer than {MaxTokenLength} characters.";
            return false;
        }

        var segments = token.Split('.');
        if (segments.Length != 3)
        {
            detail = "A JWS compact token has exactly 3 parts.";
            return false;
        }

        if (!TryDecodeBase64Url(segments[0], out var header) ||
            !TryDecodeBase64Url(segments[1], out var payload) ||
            !TryDecodeBase64Url(segments[2], out var signature))
        {
            detail = "A part is not canonical unpadded base64url.";
            return false;
        }

        parts = new Parts(header, payload, signature, segments[0].Length + 1 + segments[1].Length);
        detail = null;
        return true;
    }

    /// <summary>
    /// Accepts only the canonical unpadded base64url form: no padding, whitespace or '+/', and no non-zero spare bits,
    /// so one signature has exactly one textual form (no malleability, no token-replay-cache bypass by re-encoding).
    /// </summary>
    private static bool TryDecodeBase64Url(string text, out byte[] bytes)
    {
        bytes = [];
        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_') return false;
        }

        try
        {
            bytes = Base64Url.DecodeFromChars(text);
        }
        catch (FormatException)
        {
            return false;
        }

        // Belt and braces: the decoder already refuses non-zero spare bits today; the round trip pins that down.
        return Base64Url.EncodeToString(bytes) == text;
    }

    private static JwtError ReadHeader(byte[] json, out string? keyId, out string? detail)
    {
        keyId = null;
        if (!TryParseObject(json, out var doc))
        {
            detail = "Header is not a JSON object.";
            return JwtError.Malformed;
        }

        using (doc)
        {
            var root = doc.RootElement;
            // We implement no JWS extensions, and RFC 7515 §4.1.11 requires rejecting tokens that mark any as critical.
            if (root.TryGetProperty("crit", out _))
            {
                detail = "crit header parameter is not supported.";
                return JwtError.Malformed;
            }

            if (root.TryGetProperty("typ", out var typ) &&
                !(typ.ValueKind == JsonValueKind.String && string.Equals(typ.GetString(), "JWT", StringComparison.OrdinalIgnoreCase)))
            {
                detail = "typ must be JWT.";
                return JwtError.Malformed;
            }

            if (root.TryGetProperty("kid", out var kid))
            {
                if (kid.ValueKind != JsonValueKind.String)
                {
                    detail = "kid must be a string.";
                    return JwtError.Malformed;
                }

                keyId = kid.GetString();
            }

            // The algorithm is pinned, exact and case-sensitive: never let the token choose how it is verified ("none", RS/HS confusion).
            if (!root.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String || alg.GetString() != Algorithm)
            {
                detail = "alg must be exactly HS256.";
                return JwtError.UnsupportedAlgorithm;
            }
        }

        detail = null;
        return JwtError.None;
    }

    private static bool TryReadClaims(byte[] json, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out JwtClaims? claims, out string? detail)
    {
        claims = null;
        if (!TryParseObject(json, out var doc))
        {
            detail = "Payload is not a JSON object (or has duplicate member names).";
            return false;
        }

        using (doc)
        {
            string? iss = null, aud = null, sub = null, jti = null, role = null;
            DateTimeOffset? iat = null, nbf = null, exp = null;
            var other = new Dictionary<string, JsonElement>(StringComparer.Ordinal);

            foreach (var claim in doc.RootElement.EnumerateObject())
            {
                var value = claim.Value;
                var ok = claim.Name switch
                {
                    "iss" => TryReadString(value, out iss),
                    "sub" => TryReadString(value, out sub),
                    "jti" => TryReadString(value, out jti),
                    "role" => TryReadString(value, out role),
                    "aud" => TryReadAudience(value, out aud),
                    "iat" => TryReadNumericDate(value, out iat),
                    "nbf" => TryReadNumericDate(value, out nbf),
                    "exp" => TryReadNumericDate(value, out exp),
                    _ => other.TryAdd(claim.Name, value.Clone()),
                };
                if (!ok)
                {
                    detail = $"Claim '{claim.Name}' has the wrong type.";
                    return false;
                }
            }

            claims = new JwtClaims
            {
                Issuer = iss, Audience = aud, Subject = sub, TokenId = jti, Role = role,
                IssuedAt = iat, NotBefore = nbf, ExpiresAt = exp,
                Other = other.AsReadOnly(),
            };
        }

        detail = null;
        return true;
    }

    private static bool TryParseObject(byte[] json, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out JsonDocument? doc)
    {
        try
        {
            doc = JsonDocument.Parse(json, JsonOptions);
        }
        catch (JsonException)
        {
            doc = null;
            return false;
        }

        if (doc.RootElement.ValueKind == JsonValueKind.Object) return true;
        doc.Dispose();
        doc = null;
        return false;
    }

    // Registered string claims must be strings; JSON null is not "absent", it is a type error.
    private static bool TryReadString(JsonElement value, out string? result)
    {
        result = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        return result is not null;
    }

    // RFC 7519 allows an array; we only need one audience (the tenant), so accept a one-string array and nothing else.
    private static bool TryReadAudience(JsonElement value, out string? result)
    {
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 1)
            return TryReadString(value[0], out result);
        return TryReadString(value, out result);
    }

    // NumericDate: a JSON number of seconds, possibly fractional. decimal keeps integer seconds exact; a string is a type error.
    private static bool TryReadNumericDate(JsonElement value, out DateTimeOffset? result)
    {
        result = null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var seconds) ||
            seconds < MinUnixSeconds || seconds > MaxUnixSeconds)
        {
            return false;
        }

        result = DateTimeOffset.UnixEpoch.AddTicks((long)decimal.Floor(seconds * TimeSpan.TicksPerSecond));
        return true;
    }

    private static string EncodeJson(Action<Utf8JsonWriter> writeMembers)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writeMembers(writer);
            writer.WriteEndObject();
        }

        return Base64Url.EncodeToString(buffer.WrittenSpan);
    }

    private static void WriteIfNotNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null) writer.WriteString(name, value);
    }

    private static void WriteIfNotNull(Utf8JsonWriter writer, string name, DateTimeOffset? value)
    {
        if (value is { } date) writer.WriteNumber(name, date.ToUnixTimeSeconds());
    }
}
