using System.Buffers.Text;
using System.Net;
using System.Text;
using Dapper;
using Hub.Api.Sessions;
using Hub.Store;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Sessions;

/// <summary>
/// The hub's own embed-token keys: encrypted in the store, rotated by age or on demand, a superseded key
/// honoured for the grace window and no longer. The clock is moved by hand.
/// </summary>
public sealed class EmbedTokenKeyTests : IDisposable
{
    private readonly ShiftableClock _clock = new();
    private readonly HubApiFactory _factory;

    public EmbedTokenKeyTests() => _factory = new HubApiFactory(new HubTopology(Clock: _clock));

    public void Dispose() => _factory.Dispose();

    private HubSigningKey SigningKey => _factory.Services.GetRequiredService<HubSigningKey>();

    [Fact]
    public async Task The_stored_key_is_encrypted_so_no_stored_value_verifies_a_hub_token()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        var token = await MintEmbedTokenAsync(crm, "agent-7");

        List<string> stored;
        await using (var connection = await _factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None))
        {
            stored = (await connection.QueryAsync<string>("SELECT id || ' ' || secret_protected FROM hub_embed_token_keys")).ToList();
            stored.AddRange(await connection.QueryAsync<string>("SELECT value FROM hub_secrets"));
        }

        Assert.Contains(stored, row => row.StartsWith(KidOf(token)["hub-".Length..] + " ", StringComparison.Ordinal));
        foreach (var candidate in stored.SelectMany(row => row.Split(' ')).SelectMany(DecodingsOf))
        {
            Assert.False(TestJwt.VerifiesWith(token, candidate), "a stored value is the signing key");
        }

        await ReadAsync(await ExchangeAsync(_factory, token), HttpStatusCode.OK);
    }

    [Fact]
    public async Task After_a_rotation_new_tokens_carry_the_new_kid()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        var before = KidOf(await MintEmbedTokenAsync(crm, "agent-7"));

        var rotated = await SigningKey.RotateAsync(CancellationToken.None);
        var after = await MintEmbedTokenAsync(crm, "agent-7");

        Assert.NotEqual(before, KidOf(after));
        Assert.Equal(rotated.KeyId, KidOf(after));
        Assert.Matches("^hub-[0-9a-f]{16}$", KidOf(after));
        await ReadAsync(await ExchangeAsync(_factory, after), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_token_minted_before_a_rotation_still_exchanges_for_a_session_after_it()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var token = await MintEmbedTokenAsync(crm, "agent-7");

        await SigningKey.RotateAsync(CancellationToken.None);
        _clock.Shift(TimeSpan.FromMinutes(4));

        var session = await ReadAsync(await ExchangeAsync(_factory, token), HttpStatusCode.OK);
        Assert.Equal(tenantId, session["tenant_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_token_of_a_key_superseded_longer_ago_than_the_grace_window_is_refused_even_before_its_exp()
    {
        var (tenantId, _) = await CreateTenantAsync(_factory, "Acme");
        var old = await SigningKey.CurrentAsync(CancellationToken.None);
        await SigningKey.RotateAsync(CancellationToken.None);

        _clock.Shift(HubSigningKey.GraceWindow - TimeSpan.FromMinutes(2));
        await ReadAsync(await ExchangeAsync(_factory, Sign(old.Secret, old.KeyId, tenantId)), HttpStatusCode.OK);

        _clock.Shift(TimeSpan.FromMinutes(3));
        await AssertProblemAsync(await ExchangeAsync(_factory, Sign(old.Secret, old.KeyId, tenantId)), HttpStatusCode.Unauthorized, "invalid_token");
        var current = await SigningKey.CurrentAsync(CancellationToken.None);
        await ReadAsync(await ExchangeAsync(_factory, Sign(current.Secret, current.KeyId, tenantId)), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_rotation_deletes_the_keys_superseded_longer_ago_than_the_grace_window_and_keeps_the_rest()
    {
        await SigningKey.CurrentAsync(CancellationToken.None);
        var second = await SigningKey.RotateAsync(CancellationToken.None);
        _clock.Shift(HubSigningKey.GraceWindow + TimeSpan.FromMinutes(1));

        var third = await SigningKey.RotateAsync(CancellationToken.None);

        await using var connection = await _factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None);
        var kept = (await connection.QueryAsync<string>("SELECT id FROM hub_embed_token_keys")).Order(StringComparer.Ordinal);
        Assert.Equal(new[] { second.Id, third.Id }.Order(StringComparer.Ordinal), kept);
    }

    [Fact]
    public async Task A_kid_hub_token_signed_with_the_old_plaintext_secret_is_refused()
    {
        var (tenantId, _) = await CreateTenantAsync(_factory, "Acme");
        var oldSecret = new byte[32];
        Random.Shared.NextBytes(oldSecret);
        await using (var connection = await _factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None))
        {
            // What a store from before migration 011 held, should one still have it.
            await connection.ExecuteAsync("INSERT INTO hub_secrets (name, value, created_at) VALUES ('embed_token_key', @value, 0)",
                new { value = Convert.ToBase64String(oldSecret) });
        }

        await AssertProblemAsync(await ExchangeAsync(_factory, Sign(oldSecret, "hub", tenantId)), HttpStatusCode.Unauthorized, "invalid_token");
    }

    [Fact]
    public async Task A_key_older_than_its_lifetime_is_replaced_at_the_next_mint()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        var first = KidOf(await MintEmbedTokenAsync(crm, "agent-7"));

        _clock.Shift(TimeSpan.FromDays(29));
        Assert.Equal(first, KidOf(await MintEmbedTokenAsync(crm, "agent-7")));

        _clock.Shift(TimeSpan.FromDays(1));
        var replaced = await MintEmbedTokenAsync(crm, "agent-7");
        Assert.NotEqual(first, KidOf(replaced));
        await ReadAsync(await ExchangeAsync(_factory, replaced), HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_rotate_command_creates_a_new_key_and_prints_its_kid_but_no_secret()
    {
        var old = await SigningKey.CurrentAsync(CancellationToken.None);
        using var output = new StringWriter();

        await EmbedTokenKeyCommand.RunAsync(_factory.Services, output, CancellationToken.None);

        var newest = await _factory.Services.GetRequiredService<EmbedTokenKeyStore>().NewestAsync(CancellationToken.None);
        Assert.NotNull(newest);
        Assert.NotEqual(old.Id, newest.Id);
        var printed = output.ToString();
        Assert.Contains(newest.KeyId, printed, StringComparison.Ordinal);
        string protectedSecret;
        await using (var connection = await _factory.Services.GetRequiredService<HubDatabase>().OpenAsync(CancellationToken.None))
        {
            protectedSecret = await connection.ExecuteScalarAsync<string>("SELECT secret_protected FROM hub_embed_token_keys WHERE id = @Id", new { newest.Id }) ?? "";
        }

        foreach (var form in new[] { Convert.ToBase64String(newest.Secret), Base64Url.EncodeToString(newest.Secret), Convert.ToHexString(newest.Secret),
                     Convert.ToHexStringLower(newest.Secret), protectedSecret })
        {
            Assert.DoesNotContain(form, printed, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Made_up_kids_are_refused_and_their_lookups_stay_within_the_cache_bound()
    {
        var lookup = _factory.Services.GetRequiredService<HubTokenKeyLookup>();

        foreach (var malformed in new[] { "hub", "hub-", "hub-0123456789ABCDEF", "hub-0123456789abcdef0", "sk_0123456789abcdef", "hub-" + new string('a', 5000) })
        {
            Assert.Null(await lookup.FindAsync(malformed, CancellationToken.None));
        }

        Assert.Equal(0, lookup.CachedCount);
        for (var attempt = 0; attempt < HubTokenKeyLookup.MaxEntries + 50; attempt++)
        {
            Assert.Null(await lookup.FindAsync($"hub-{Random.Shared.NextInt64():x16}", CancellationToken.None));
            Assert.InRange(lookup.CachedCount, 1, HubTokenKeyLookup.MaxEntries);
        }
    }

    internal static string KidOf(string token) => TestJwt.KidOf(token) ?? throw new InvalidOperationException("The token has no kid.");

    private string Sign(byte[] secret, string keyId, string tenantId)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(_clock.GetUtcNow().ToUnixTimeSeconds());
        return TestJwt.Mint(secret, keyId, "hub", tenantId, "agent-7", Guid.NewGuid().ToString("N"), now, now.AddSeconds(60));
    }

    /// <summary>Every way a stored text could hold key bytes: as it is, base64, base64url.</summary>
    private static IEnumerable<byte[]> DecodingsOf(string value)
    {
        yield return Encoding.UTF8.GetBytes(value);
        var buffer = new byte[value.Length];
        if (Convert.TryFromBase64String(value, buffer, out var written))
        {
            yield return buffer[..written];
        }

        if (Base64Url.IsValid(value))
        {
            yield return Base64Url.DecodeFromChars(value);
        }
    }
}
