using System.Text.RegularExpressions;
using Hub.Api.Auth;
using Hub.Api.Auth.Jwt;
using Hub.Store;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hub.Api.Sessions;

/// <summary>
/// Signs the hub's own embed tokens with the newest of its embed-token keys (<see cref="EmbedTokenKeyStore"/>),
/// <c>kid</c> = <c>hub-</c> and the key's id. A key older than <c>Hub:EmbedTokenKeyLifetime</c> is replaced at
/// the next mint; <see cref="RotateAsync"/> replaces it at once. Each node re-reads which key is newest at most
/// <see cref="CurrentKeyRefresh"/> after it last did, so it follows another node's rotation within that.
/// </summary>
public sealed partial class HubSigningKey(EmbedTokenKeyStore store, IOptions<HubSettings> settings, TimeProvider clock)
{
    public const string Issuer = "hub";

    /// <summary>Tenant signing keys are <c>sk_…</c>, so a <c>hub-</c> kid never names one.</summary>
    public const string KeyIdPrefix = "hub-";

    /// <summary>The longest <c>ttl_seconds</c> of an embed token the hub mints.</summary>
    public const int MaxTtlSeconds = 3600;

    public static readonly TimeSpan CurrentKeyRefresh = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a superseded key still verifies. A node that has not yet seen the rotation signs with the old
    /// key for up to <see cref="CurrentKeyRefresh"/> more, and such a token lives up to <see cref="MaxTtlSeconds"/>
    /// and the validator's clock skew; five minutes more cover clocks of nodes that disagree (each stamps the
    /// keys it creates). After it, tokens of that key are refused even if their <c>exp</c> says otherwise.
    /// </summary>
    public static readonly TimeSpan GraceWindow =
        TimeSpan.FromSeconds(MaxTtlSeconds) + CurrentKeyRefresh + EmbedTokenValidator.ClockSkew + TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Current? _current;

    /// <summary>The key id in a well-formed <c>hub-…</c> kid; false for anything else (the old <c>hub</c> included).</summary>
    public static bool TryParseKeyId(string? keyId, out string id)
    {
        var valid = keyId is not null && KeyIdPattern().IsMatch(keyId);
        id = valid ? keyId![KeyIdPrefix.Length..] : "";
        return valid;
    }

    /// <summary>A single-use embed token for one agent (or analyst, for the dashboard) of one tenant.</summary>
    public async Task<(string Token, DateTimeOffset ExpiresAt)> MintEmbedTokenAsync(string tenantId, string agentId, int ttlSeconds, CancellationToken cancellationToken,
        string role = Roles.Agent)
    {
        // The grace window is only as long as the tokens it must outlive.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ttlSeconds, MaxTtlSeconds);
        var key = await CurrentAsync(cancellationToken);
        var now = DateTimeOffset.FromUnixTimeSeconds(clock.GetUtcNow().ToUnixTimeSeconds());
        var expiresAt = now.AddSeconds(ttlSeconds);
        var token = HubJwt.Create(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = tenantId,
            IssuedAt = now.UtcDateTime,
            Expires = expiresAt.UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = agentId,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
                ["role"] = role,
            },
            SigningCredentials = HubJwt.Credentials(key.Secret, key.KeyId),
        });
        return (token, expiresAt);
    }

    /// <summary>Makes a new key, which this node signs with from now on (others within <see cref="CurrentKeyRefresh"/>).</summary>
    public async Task<EmbedTokenKey> RotateAsync(CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            var key = await CreateAsync(cancellationToken);
            _current = new Current(key, clock.GetUtcNow());
            return key;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The key this node signs with now.</summary>
    internal async Task<EmbedTokenKey> CurrentAsync(CancellationToken cancellationToken)
    {
        if (Fresh(_current) is { } cached)
        {
            return cached;
        }

        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (Fresh(_current) is { } refreshed)
            {
                return refreshed;
            }

            var now = clock.GetUtcNow();
            var newest = await store.NewestAsync(cancellationToken);
            if (newest is null || now - newest.CreatedAt >= settings.Value.EmbedTokenKeyLifetime)
            {
                // Another node may be doing the same: two new keys, the newer signs, both verify. Harmless.
                newest = await CreateAsync(cancellationToken);
            }

            _current = new Current(newest, now);
            return newest;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private async Task<EmbedTokenKey> CreateAsync(CancellationToken cancellationToken)
    {
        var key = await store.CreateAsync(cancellationToken);
        await store.DeleteSupersededBeforeAsync(key.CreatedAt - GraceWindow, cancellationToken);
        return key;
    }

    private EmbedTokenKey? Fresh(Current? current)
    {
        var age = current is null ? TimeSpan.MaxValue : clock.GetUtcNow() - current.ReadAt;
        return age >= TimeSpan.Zero && age < CurrentKeyRefresh ? current!.Key : null;
    }

    private sealed record Current(EmbedTokenKey Key, DateTimeOffset ReadAt);

    [GeneratedRegex("^hub-[0-9a-f]{16}$")]
    private static partial Regex KeyIdPattern();
}
