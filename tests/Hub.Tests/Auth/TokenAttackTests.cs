using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Hub.Api.Sessions;
using Hub.Store;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Auth;

/// <summary>
/// Hand-made tokens an attacker sends to <c>POST /api/v1/sessions</c>: each is refused with the documented
/// code and creates no session, while the same token made right is accepted (so the refusal is the attack's).
/// The other attacks (another key, unknown or old <c>hub</c> kid, expired, over 120 s, another tenant's
/// iss/aud, replay) are in <see cref="EmbedSigningKeyTests"/>, <see cref="AuthTests"/> and the session tests.
/// </summary>
public sealed class TokenAttackTests : IDisposable
{
    private readonly HubApiFactory _factory = new();
    private string _tenantId = "";
    private string _keyId = "";
    private byte[] _secret = [];

    public void Dispose() => _factory.Dispose();

    /// <summary>A tenant and one of its embed signing keys: the attacks below are SSO tokens for it.</summary>
    private async Task InitializeTenantAsync()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var created = await ReadAsync(await crm.PostAsync("/api/v1/embed-signing-keys", null), HttpStatusCode.Created);
        (_tenantId, _keyId, _secret) = (tenantId, created["id"]!.GetValue<string>(), Encoding.UTF8.GetBytes(created["secret"]!.GetValue<string>()));
    }

    private string Header(string alg = "HS256") => $$"""{"alg":"{{alg}}","typ":"JWT","kid":"{{_keyId}}"}""";

    private static long Now(int plusSeconds = 0) => DateTimeOffset.UtcNow.ToUnixTimeSeconds() + plusSeconds;

    /// <summary>A valid SSO payload; <paramref name="extra"/> is appended inside the object, <paramref name="times"/> replaces iat and exp.</summary>
    private string Payload(string extra = "", string? times = null) =>
        $$"""{"iss":"{{_tenantId}}","aud":"{{_tenantId}}","sub":"agent-7",{{times ?? $"\"iat\":{Now()},\"exp\":{Now(60)}"}},"jti":"{{Guid.NewGuid()}}"{{extra}}}""";

    private string Sign(string header, string payload) => TestJwt.Sign(header, payload, _secret);

    private async Task<long> CountSessionsAsync()
    {
        await using var connection = await _factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM sessions");
    }

    /// <summary>The documented refusal, and no session was created; returns the detail.</summary>
    private async Task<string> AssertRefusedAsync(string token, string code = "invalid_token")
    {
        var before = await CountSessionsAsync();
        var problem = await AssertProblemAsync(await ExchangeAsync(_factory, token), HttpStatusCode.Unauthorized, code);
        Assert.Null(problem["session_token"]);
        Assert.Equal(before, await CountSessionsAsync());
        return problem["detail"]!.GetValue<string>();
    }

    private async Task AssertAcceptedAsync(string token) => await ReadAsync(await ExchangeAsync(_factory, token), HttpStatusCode.OK);

    [Fact]
    public async Task Alg_none_is_invalid_token_for_a_crm_kid_and_a_hub_kid()
    {
        await InitializeTenantAsync();
        var hubKey = await _factory.Services.GetRequiredService<HubSigningKey>().CurrentAsync(CancellationToken.None);
        var hubPayload = $$"""{"iss":"hub","aud":"{{_tenantId}}","sub":"agent-7","iat":{{Now()}},"exp":{{Now(60)}},"jti":"{{Guid.NewGuid()}}"}""";

        await AssertRefusedAsync(TestJwt.B64(Header("none")) + "." + TestJwt.B64(Payload()) + ".");
        await AssertRefusedAsync(TestJwt.B64($$"""{"alg":"none","kid":"{{hubKey.KeyId}}"}""") + "." + TestJwt.B64(hubPayload) + ".");
        // The same token with a real signature in place of none's empty one is still alg none.
        var signed = Sign(Header(), Payload()).Split('.');
        await AssertRefusedAsync(TestJwt.B64(Header("none")) + "." + signed[1] + "." + signed[2]);
        await AssertAcceptedAsync(TestJwt.Sign($$"""{"alg":"HS256","kid":"{{hubKey.KeyId}}"}""", hubPayload, hubKey.Secret));
    }

    [Theory]
    [InlineData("HS384")]
    [InlineData("HS512")]
    public async Task Another_HMAC_algorithm_with_the_right_key_is_invalid_token(string alg)
    {
        await InitializeTenantAsync();
        Func<byte[], byte[], byte[]> mac = alg == "HS384" ? HMACSHA384.HashData : HMACSHA512.HashData;

        await AssertRefusedAsync(TestJwt.Sign(Header(alg), Payload(), _secret, mac));
        await AssertAcceptedAsync(Sign(Header(), Payload()));
    }

    [Fact]
    public async Task Any_alg_but_exactly_HS256_is_invalid_token_even_when_signed_with_HMAC_SHA256()
    {
        await InitializeTenantAsync();

        foreach (var header in new[]
        {
            Header("RS256"), Header("ES256"), Header("PS256"), Header("hs256"), Header("HS256 "),
            Header("http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"),
            $$"""{"alg":["HS256"],"kid":"{{_keyId}}"}""", $$"""{"alg":null,"kid":"{{_keyId}}"}""", $$"""{"typ":"JWT","kid":"{{_keyId}}"}""",
        })
        {
            await AssertRefusedAsync(Sign(header, Payload()));
        }

        await AssertAcceptedAsync(Sign(Header(), Payload()));
    }

    [Fact]
    public async Task Crit_header_is_invalid_token()
    {
        await InitializeTenantAsync();

        Assert.Contains("crit", await AssertRefusedAsync(Sign($$"""{"alg":"HS256","kid":"{{_keyId}}","crit":["exp"],"exp":1}""", Payload())),
            StringComparison.Ordinal);
        await AssertRefusedAsync(Sign($$"""{"alg":"HS256","kid":"{{_keyId}}","crit":[]}""", Payload()));
        await AssertAcceptedAsync(Sign($$"""{"alg":"HS256","kid":"{{_keyId}}"}""", Payload()));
    }

    [Fact]
    public async Task Duplicate_claims_or_header_members_are_invalid_token_whichever_copy_a_parser_would_keep()
    {
        await InitializeTenantAsync();

        // Each is signed with the right key and valid whether the first or the last copy is read.
        await AssertRefusedAsync(Sign(Header(), Payload(""","sub":"agent-7" """)));
        await AssertRefusedAsync(Sign(Header(), Payload(""","\u0073ub":"agent-7" """)));
        await AssertRefusedAsync(Sign(Header(), Payload($$""","iss":"{{_tenantId}}" """)));
        await AssertRefusedAsync(Sign(Header(), Payload($$""","exp":{{Now(60)}}""")));
        await AssertRefusedAsync(Sign($$"""{"alg":"HS256","alg":"HS256","kid":"{{_keyId}}"}""", Payload()));
        await AssertRefusedAsync(Sign($$"""{"alg":"HS256","kid":"{{_keyId}}","kid":"{{_keyId}}"}""", Payload()));
        // And the confusion they are for: an agent name or alg a last-wins parser reads, another a first-wins one does.
        await AssertRefusedAsync(Sign(Header(), Payload(""","sub":"supervisor-1" """)));
        await AssertRefusedAsync(Sign($$"""{"alg":"none","alg":"HS256","kid":"{{_keyId}}"}""", Payload()));
    }

    [Fact]
    public async Task Iat_in_the_future_beyond_the_clock_skew_is_invalid_token()
    {
        await InitializeTenantAsync();
        var ahead = (int)EmbedTokenValidator.ClockSkew.TotalSeconds + 55;

        Assert.Contains("iat", await AssertRefusedAsync(Sign(Header(), Payload(times: $"\"iat\":{Now(ahead)},\"exp\":{Now(ahead + 60)}"))),
            StringComparison.Ordinal);
        await AssertAcceptedAsync(Sign(Header(), Payload(times: $"\"iat\":{Now(2)},\"exp\":{Now(62)}")));
    }

    [Fact]
    public async Task Nbf_in_the_future_beyond_the_clock_skew_is_invalid_token()
    {
        await InitializeTenantAsync();

        Assert.Contains("nbf", await AssertRefusedAsync(Sign(Header(), Payload($",\"nbf\":{Now(30)}"))), StringComparison.Ordinal);
        await AssertAcceptedAsync(Sign(Header(), Payload($",\"nbf\":{Now()}")));
    }

    [Fact]
    public async Task Forged_token_is_invalid_token_whatever_its_claims_say()
    {
        await InitializeTenantAsync();
        var otherKey = RandomNumberGenerator.GetBytes(32);

        // An expired token signed with the wrong key must not learn that it is expired.
        var expired = Payload(times: $"\"iat\":{Now(-600)},\"exp\":{Now(-540)}");
        await AssertRefusedAsync(TestJwt.Sign(Header(), expired, otherKey));
        await AssertRefusedAsync(Sign(Header(), expired), "token_expired");
        await AssertRefusedAsync(TestJwt.Sign(Header(), """{"exp":"soon"}""", otherKey));
        await AssertRefusedAsync(TestJwt.Sign(Header(), "[]", otherKey));
    }

    [Fact]
    public async Task Tampered_payload_or_truncated_signature_is_invalid_token()
    {
        await InitializeTenantAsync();
        var parts = Sign(Header(), Payload()).Split('.');

        await AssertRefusedAsync(parts[0] + "." + TestJwt.B64(Payload().Replace("agent-7", "agent-1", StringComparison.Ordinal)) + "." + parts[2]);
        await AssertRefusedAsync(parts[0] + "." + parts[1] + "." + parts[2][..^4]);
        await AssertRefusedAsync(parts[0] + "." + parts[1] + ".");
    }

    [Fact]
    public async Task Missing_or_wrongly_typed_registered_claims_are_invalid_token()
    {
        await InitializeTenantAsync();

        foreach (var payload in new[]
        {
            $$"""{"iss":"{{_tenantId}}","aud":"{{_tenantId}}","sub":"agent-7","iat":{{Now()}},"jti":"{{Guid.NewGuid()}}"}""",
            Payload(times: $"\"iat\":{Now()},\"exp\":\"{Now(60)}\""),
            Payload(times: $"\"iat\":\"{Now()}\",\"exp\":{Now(60)}"),
            Payload(times: $"\"iat\":{Now()},\"exp\":null"),
            Payload(times: $"\"iat\":{Now()},\"exp\":1e300"),
            Payload(times: $"\"iat\":{Now()},\"exp\":true"),
            Payload(",\"role\":7"),
            $$"""{"iss":"{{_tenantId}}","aud":"{{_tenantId}}","sub":7,"iat":{{Now()}},"exp":{{Now(60)}},"jti":"{{Guid.NewGuid()}}"}""",
            $$"""{"iss":"{{_tenantId}}","aud":"{{_tenantId}}","sub":"agent-7","iat":{{Now()}},"exp":{{Now(60)}}}""",
        })
        {
            await AssertRefusedAsync(Sign(Header(), payload));
        }
    }

    [Fact]
    public async Task Aud_naming_more_than_the_tenant_is_invalid_token_and_a_one_element_array_is_accepted()
    {
        await InitializeTenantAsync();
        string WithAud(string aud) => $$"""{"iss":"{{_tenantId}}","aud":{{aud}},"sub":"agent-7","iat":{{Now()}},"exp":{{Now(60)}},"jti":"{{Guid.NewGuid()}}"}""";

        await AssertRefusedAsync(Sign(Header(), WithAud($$"""["{{_tenantId}}","other-tenant"]""")));
        await AssertRefusedAsync(Sign(Header(), WithAud("[]")));
        await AssertAcceptedAsync(Sign(Header(), WithAud($$"""["{{_tenantId}}"]""")));
    }

    [Fact]
    public async Task Typ_other_than_JWT_is_invalid_token()
    {
        await InitializeTenantAsync();

        await AssertRefusedAsync(Sign($$"""{"alg":"HS256","typ":"JWS","kid":"{{_keyId}}"}""", Payload()));
        await AssertRefusedAsync(Sign($$"""{"alg":"HS256","typ":null,"kid":"{{_keyId}}"}""", Payload()));
        await AssertAcceptedAsync(Sign($$"""{"alg":"HS256","typ":"jwt","kid":"{{_keyId}}"}""", Payload()));
    }

    [Fact]
    public async Task Malformed_tokens_are_invalid_token()
    {
        await InitializeTenantAsync();
        var valid = Sign(Header(), Payload());
        var parts = valid.Split('.');

        foreach (var token in new[]
        {
            "not-a-jwt", parts[0] + "." + parts[1], valid + ".AAAA", "a.b.c.d.e", parts[0] + ".a*b." + parts[2],
            Sign(Header(), "[]"), Sign(Header(), "\"claims\""), Sign(Header(), Payload()[..^1] + ",}"),
            Sign($$"""["HS256","{{_keyId}}"]""", Payload()), Sign($$"""{"alg":"HS256","kid":7}""", Payload()),
            Sign(Header(), Payload($",\"pad\":\"{new string('x', 8 * 1024)}\"")),
        })
        {
            await AssertRefusedAsync(token);
        }

        await AssertAcceptedAsync(valid);
    }

    [Fact]
    public async Task A_token_without_the_bearer_scheme_is_invalid_token()
    {
        await InitializeTenantAsync();
        using var anonymous = _factory.CreateClient();

        var refused = await anonymous.PostAsJsonAsync("/api/v1/sessions", new { token = Sign(Header(), Payload()) });

        await AssertProblemAsync(refused, HttpStatusCode.Unauthorized, "invalid_token");
    }
}
