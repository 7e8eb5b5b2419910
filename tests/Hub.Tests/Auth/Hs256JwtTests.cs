using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hub.Api.Auth.Jwt;

namespace Hub.Tests.Auth;

public class Hs256JwtTests
{
    private static readonly byte[] Key = "hub-test-secret-0123456789abcdef"u8.ToArray();
    private static readonly byte[] OtherKey = "another-secret-0123456789abcdef!"u8.ToArray();
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);

    private const string Header = """{"alg":"HS256","typ":"JWT"}""";
    private const string Payload = """{"iss":"tenant-42","aud":"tenant-42","sub":"agent-7","iat":1700000000,"exp":1700000120,"jti":"j1"}""";

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    // Deliberately independent of the implementation's encoder, so the tests pin the wire format.
    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string B64(string json) => B64(Encoding.UTF8.GetBytes(json));

    private static string Sign(string headerJson, string payloadJson, byte[]? key = null)
    {
        var signingInput = B64(headerJson) + "." + B64(payloadJson);
        return signingInput + "." + B64(HMACSHA256.HashData(key ?? Key, Encoding.ASCII.GetBytes(signingInput)));
    }

    private static JwtValidationResult Check(string token, DateTimeOffset? now = null, Func<string?, byte[]?>? keys = null) =>
        Hs256Jwt.Validate(token, keys ?? (kid => kid is null or "k1" ? Key : null), new FixedTimeProvider(now ?? Now), Skew);

    private static void AssertError(JwtError expected, JwtValidationResult result)
    {
        Assert.Equal(expected, result.Error);
        Assert.False(result.IsValid);
        Assert.Null(result.Claims);
    }

    [Fact]
    public void Created_token_round_trips_all_claims_and_kid()
    {
        using var flag = JsonDocument.Parse("""{"beta":[1,2]}""");
        var claims = new JwtClaims
        {
            Issuer = "tenant-42", Audience = "tenant-42", Subject = "agent-7", TokenId = "j1", Role = "supervisor",
            IssuedAt = Now, NotBefore = Now, ExpiresAt = Now.AddSeconds(120),
            Other = new Dictionary<string, JsonElement> { ["flags"] = flag.RootElement.Clone() },
        };

        var result = Check(Hs256Jwt.Create(claims, Key, "k1"));

        Assert.True(result.IsValid, result.Detail);
        Assert.Equal("k1", result.KeyId);
        var read = result.Claims!;
        Assert.Equal(("tenant-42", "tenant-42", "agent-7", "j1", "supervisor"), (read.Issuer, read.Audience, read.Subject, read.TokenId, read.Role));
        Assert.Equal((Now, Now, Now.AddSeconds(120)), (read.IssuedAt, read.NotBefore, read.ExpiresAt));
        Assert.Equal("""{"beta":[1,2]}""", Assert.Single(read.Other, kv => kv.Key == "flags").Value.GetRawText());
    }

    [Fact]
    public void Hand_built_token_signed_with_HMACSHA256_is_accepted()
    {
        var result = Check(Sign(Header, Payload));

        Assert.True(result.IsValid, result.Detail);
        Assert.Null(result.KeyId);
        Assert.Equal("agent-7", result.Claims!.Subject);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_120), result.Claims.ExpiresAt);
    }

    [Fact]
    public void Rfc7515_appendix_A1_example_is_accepted()
    {
        // RFC 7515 A.1: header and payload contain CRLF whitespace; the MAC covers the transmitted bytes, not a re-encoding.
        const string token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
            + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
            + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        var key = Convert.FromBase64String("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ+EstJQLr/T+1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow==");

        var result = Check(token, DateTimeOffset.FromUnixTimeSeconds(1_300_819_000), _ => key);

        Assert.True(result.IsValid, result.Detail);
        Assert.Equal("joe", result.Claims!.Issuer);
        Assert.True(result.Claims.Other["http://example.com/is_root"].GetBoolean());
    }

    [Fact]
    public void Create_output_for_fixed_claims_is_pinned()
    {
        var claims = new JwtClaims
        {
            Issuer = "tenant-42", Audience = "tenant-42", Subject = "agent-7", TokenId = "jti-1", Role = "agent",
            IssuedAt = Now, ExpiresAt = Now.AddSeconds(120),
        };

        // Computed outside .NET: header {"alg":"HS256","typ":"JWT","kid":"k1"},
        // payload {"iss":"tenant-42","sub":"agent-7","aud":"tenant-42","exp":1700000120,"iat":1700000000,"jti":"jti-1","role":"agent"}.
        Assert.Equal(
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0"
            + ".eyJpc3MiOiJ0ZW5hbnQtNDIiLCJzdWIiOiJhZ2VudC03IiwiYXVkIjoidGVuYW50LTQyIiwiZXhwIjoxNzAwMDAwMTIwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6Imp0aS0xIiwicm9sZSI6ImFnZW50In0"
            + ".G3QpAtaYRB-iZOC_jFrvSVVO5-QBvBhwdvZFNdjVAIc",
            Hs256Jwt.Create(claims, Key, "k1"));
    }

    [Fact]
    public void Create_without_kid_writes_the_bare_header_and_omits_null_claims()
    {
        var token = Hs256Jwt.Create(new JwtClaims { ExpiresAt = Now }, Key);

        Assert.Equal(Sign(Header, """{"exp":1700000000}"""), token);
    }

    [Fact]
    public void Create_rejects_a_secret_shorter_than_256_bits()
    {
        Assert.Throws<ArgumentException>(() => Hs256Jwt.Create(new JwtClaims(), new byte[31]));
    }

    [Fact]
    public void Create_rejects_a_registered_claim_smuggled_through_Other()
    {
        using var doc = JsonDocument.Parse("1");
        var claims = new JwtClaims { Other = new Dictionary<string, JsonElement> { ["exp"] = doc.RootElement.Clone() } };

        Assert.Throws<ArgumentException>(() => Hs256Jwt.Create(claims, Key));
    }

    [Fact]
    public void Alg_none_with_empty_signature_is_unsupported()
    {
        var token = B64("""{"alg":"none","typ":"JWT"}""") + "." + B64(Payload) + ".";

        AssertError(JwtError.UnsupportedAlgorithm, Check(token));
    }

    [Fact]
    public void Alg_HS512_signed_with_HMACSHA512_is_unsupported()
    {
        var signingInput = B64("""{"alg":"HS512","typ":"JWT"}""") + "." + B64(Payload);
        var token = signingInput + "." + B64(HMACSHA512.HashData(Key, Encoding.ASCII.GetBytes(signingInput)));

        AssertError(JwtError.UnsupportedAlgorithm, Check(token));
    }

    [Theory]
    [InlineData("""{"alg":"hs256","typ":"JWT"}""")]
    [InlineData("""{"alg":"RS256","typ":"JWT"}""")]
    [InlineData("""{"alg":"HS256 ","typ":"JWT"}""")]
    [InlineData("""{"alg":["HS256"],"typ":"JWT"}""")]
    [InlineData("""{"alg":null,"typ":"JWT"}""")]
    public void Alg_other_than_exact_HS256_is_unsupported_even_when_HS256_signed(string header)
    {
        AssertError(JwtError.UnsupportedAlgorithm, Check(Sign(header, Payload)));
    }

    [Fact]
    public void Missing_alg_is_unsupported()
    {
        AssertError(JwtError.UnsupportedAlgorithm, Check(Sign("""{"typ":"JWT"}""", Payload)));
    }

    [Fact]
    public void Token_signed_with_another_key_is_invalid()
    {
        AssertError(JwtError.BadSignature, Check(Sign(Header, Payload, OtherKey)));
    }

    [Fact]
    public void Unknown_kid_is_reported_with_the_kid_and_the_resolver_sees_it()
    {
        string? asked = "not called";
        var result = Check(Sign("""{"alg":"HS256","typ":"JWT","kid":"k9"}""", Payload), keys: kid => { asked = kid; return null; });

        AssertError(JwtError.UnknownKey, result);
        Assert.Equal("k9", asked);
        Assert.Equal("k9", result.KeyId);
    }

    [Fact]
    public void Resolved_key_shorter_than_256_bits_is_never_used()
    {
        var shortKey = new byte[16];

        AssertError(JwtError.UnknownKey, Check(Sign(Header, Payload, shortKey), keys: _ => shortKey));
    }

    [Fact]
    public void Tampered_payload_is_a_bad_signature()
    {
        var parts = Sign(Header, Payload).Split('.');
        var token = parts[0] + "." + B64(Payload.Replace("agent-7", "agent-1", StringComparison.Ordinal)) + "." + parts[2];

        AssertError(JwtError.BadSignature, Check(token));
    }

    [Fact]
    public void Truncated_signature_is_a_bad_signature()
    {
        var token = Sign(Header, Payload);

        AssertError(JwtError.BadSignature, Check(token[..^4]));
    }

    [Fact]
    public void Forged_token_gets_BadSignature_not_claim_errors()
    {
        // Expired, exp-as-string and non-object payloads signed with the wrong key must all look the same to the forger.
        AssertError(JwtError.BadSignature, Check(Sign(Header, """{"exp":1}""", OtherKey)));
        AssertError(JwtError.BadSignature, Check(Sign(Header, """{"exp":"1700000120"}""", OtherKey)));
        AssertError(JwtError.BadSignature, Check(Sign(Header, "[]", OtherKey)));
        AssertError(JwtError.BadSignature, Check(Sign(Header, "{}", OtherKey)));
    }

    [Fact]
    public void Expired_beyond_skew_is_expired()
    {
        AssertError(JwtError.Expired, Check(Sign(Header, Payload), Now.AddSeconds(120 + 31)));
    }

    [Fact]
    public void Expired_within_skew_is_still_valid()
    {
        Assert.True(Check(Sign(Header, Payload), Now.AddSeconds(120 + 30)).IsValid);
    }

    [Fact]
    public void Nbf_in_the_future_beyond_skew_is_not_yet_valid()
    {
        var payload = """{"nbf":1700000031,"exp":1700000120}""";

        AssertError(JwtError.NotYetValid, Check(Sign(Header, payload)));
        Assert.True(Check(Sign(Header, payload), Now.AddSeconds(1)).IsValid);
    }

    [Fact]
    public void Iat_in_the_future_beyond_skew_is_not_yet_valid()
    {
        AssertError(JwtError.NotYetValid, Check(Sign(Header, """{"iat":1700000031,"exp":1700000120}""")));
    }

    [Fact]
    public void Missing_exp_is_a_missing_claim()
    {
        AssertError(JwtError.MissingClaim, Check(Sign(Header, """{"iss":"tenant-42","iat":1700000000}""")));
    }

    [Fact]
    public void Fractional_and_exponent_numeric_dates_are_accepted()
    {
        var result = Check(Sign(Header, """{"iat":1.7e9,"exp":1700000120.5}"""));

        Assert.True(result.IsValid, result.Detail);
        Assert.Equal(Now, result.Claims!.IssuedAt);
        Assert.Equal(Now.AddSeconds(120.5), result.Claims.ExpiresAt);
    }

    [Theory]
    [InlineData("""{"exp":"1700000120"}""")]
    [InlineData("""{"exp":null}""")]
    [InlineData("""{"exp":true}""")]
    [InlineData("""{"exp":1e300}""")]
    [InlineData("""{"exp":1700000120,"iat":"1700000000"}""")]
    [InlineData("""{"exp":1700000120,"iss":42}""")]
    [InlineData("""{"exp":1700000120,"sub":null}""")]
    public void Registered_claim_with_the_wrong_type_is_malformed(string payload)
    {
        AssertError(JwtError.Malformed, Check(Sign(Header, payload)));
    }

    [Theory]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.e30")] // two parts
    [InlineData("eyJhbGciOiJIUzI1NiJ9.e30.e30.AAAA")] // four parts
    [InlineData("eyJhbGciOiJIUzI1NiJ9.e30.a*b")] // not base64url
    [InlineData("eyJhbGciOiJIUzI1NiJ9.e30=.AAAA")] // padding
    [InlineData("eyJhbGciOiJIUzI1NiJ9.e3+.AAAA")] // plain base64 alphabet
    [InlineData("eyJhbGciOiJIUzI1NiJ9.e31.AAAA")] // non-zero spare bits: non-canonical encoding of "{}"
    [InlineData("eyJhbGciOiJIUzI1NiJ9.e30 .AAAA")] // whitespace
    [InlineData("eyJhbGciOiJIUzI1NiJ9.e30AA.AAAA")] // impossible length (4n+1)
    [InlineData("")]
    public void Structurally_broken_token_is_malformed(string token)
    {
        AssertError(JwtError.Malformed, Check(token));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"claims\"")]
    [InlineData("42")]
    [InlineData("")]
    [InlineData("{\"exp\":1700000120,}")]
    public void Signed_payload_that_is_not_a_JSON_object_is_malformed(string payload)
    {
        AssertError(JwtError.Malformed, Check(Sign(Header, payload)));
    }

    [Fact]
    public void Header_that_is_not_a_JSON_object_is_malformed()
    {
        AssertError(JwtError.Malformed, Check(Sign("""["HS256"]""", Payload)));
    }

    [Fact]
    public void Oversize_token_is_malformed()
    {
        var padding = new string('x', 8 * 1024);
        var token = Sign(Header, $$"""{"exp":1700000120,"pad":"{{padding}}"}""");

        AssertError(JwtError.Malformed, Check(token));
    }

    [Theory]
    [InlineData("""{"exp":1700000120,"exp":1900000000}""")]
    [InlineData("""{"exp":1700000120,"\u0065xp":1900000000}""")] // same name once unescaped
    [InlineData("""{"exp":1700000120,"iss":"tenant-1","iss":"tenant-2"}""")]
    [InlineData("""{"exp":1700000120,"x":1,"x":2}""")]
    public void Duplicate_claim_names_are_malformed(string payload)
    {
        AssertError(JwtError.Malformed, Check(Sign(Header, payload)));
    }

    [Fact]
    public void Duplicate_header_alg_is_malformed()
    {
        AssertError(JwtError.Malformed, Check(Sign("""{"alg":"none","alg":"HS256"}""", Payload)));
    }

    [Fact]
    public void Aud_as_a_one_element_array_is_accepted()
    {
        var result = Check(Sign(Header, """{"aud":["tenant-42"],"exp":1700000120}"""));

        Assert.True(result.IsValid, result.Detail);
        Assert.Equal("tenant-42", result.Claims!.Audience);
    }

    [Theory]
    [InlineData("""{"aud":["tenant-42","tenant-43"],"exp":1700000120}""")]
    [InlineData("""{"aud":[],"exp":1700000120}""")]
    [InlineData("""{"aud":[42],"exp":1700000120}""")]
    public void Aud_as_any_other_array_is_malformed(string payload)
    {
        AssertError(JwtError.Malformed, Check(Sign(Header, payload)));
    }

    [Fact]
    public void Crit_header_is_rejected()
    {
        AssertError(JwtError.Malformed, Check(Sign("""{"alg":"HS256","typ":"JWT","crit":["exp"],"exp":1}""", Payload)));
    }

    [Theory]
    [InlineData("""{"alg":"HS256","typ":"jwt"}""", JwtError.None)]
    [InlineData("""{"alg":"HS256"}""", JwtError.None)]
    [InlineData("""{"alg":"HS256","typ":"JWS"}""", JwtError.Malformed)]
    [InlineData("""{"alg":"HS256","typ":null}""", JwtError.Malformed)]
    [InlineData("""{"alg":"HS256","kid":7}""", JwtError.Malformed)]
    public void Typ_is_optional_and_case_insensitive_and_kid_must_be_a_string(string header, JwtError expected)
    {
        Assert.Equal(expected, Check(Sign(header, Payload)).Error);
    }

    [Fact]
    public void TryReadUnverified_returns_kid_and_issuer_without_a_key()
    {
        var token = Sign("""{"alg":"HS256","typ":"JWT","kid":"crm-2024"}""", Payload, OtherKey);

        Assert.True(Hs256Jwt.TryReadUnverified(token, out var keyId, out var claims));
        Assert.Equal("crm-2024", keyId);
        Assert.Equal("tenant-42", claims!.Issuer);
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.W10.AAAA")] // payload []
    public void TryReadUnverified_returns_false_for_malformed_tokens(string token)
    {
        Assert.False(Hs256Jwt.TryReadUnverified(token, out var keyId, out var claims));
        Assert.Null(keyId);
        Assert.Null(claims);
    }

    [Fact]
    public void Negative_clock_skew_is_a_programming_error()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Hs256Jwt.Validate(Sign(Header, Payload), _ => Key, new FixedTimeProvider(Now), TimeSpan.FromSeconds(-1)));
    }
}
