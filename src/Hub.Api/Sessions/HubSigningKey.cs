using System.Security.Cryptography;
using Dapper;
using Hub.Api.Auth;
using Hub.Api.Auth.Jwt;
using Hub.Store;

namespace Hub.Api.Sessions;

/// <summary>
/// The secret the hub signs its own embed tokens with. It lives in the store so every Api node of a
/// deployment mints and accepts the same tokens; the first node to start creates it.
/// </summary>
public sealed class HubSigningKey(HubDatabase database, TimeProvider clock)
{
    public const string KeyId = "hub";
    public const string Issuer = "hub";

    private byte[]? _secret;

    /// <summary>A single-use embed token for one agent (or analyst, for the dashboard) of one tenant.</summary>
    public async Task<(string Token, DateTimeOffset ExpiresAt)> MintEmbedTokenAsync(string tenantId, string agentId, int ttlSeconds, CancellationToken cancellationToken,
        string role = Roles.Agent)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(clock.GetUtcNow().ToUnixTimeSeconds());
        var expiresAt = now.AddSeconds(ttlSeconds);
        var token = Hs256Jwt.Create(new JwtClaims
        {
            Issuer = Issuer,
            Audience = tenantId,
            Subject = agentId,
            TokenId = Guid.NewGuid().ToString("N"),
            IssuedAt = now,
            ExpiresAt = expiresAt,
            Role = role,
        }, await GetAsync(cancellationToken), KeyId);
        return (token, expiresAt);
    }

    public async ValueTask<byte[]> GetAsync(CancellationToken cancellationToken)
    {
        if (_secret is { } cached)
        {
            return cached;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO hub_secrets (name, value, created_at) VALUES ('embed_token_key', @value, @now) ON CONFLICT (name) DO NOTHING",
            new { value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), now = clock.NowMs() },
            cancellationToken: cancellationToken));
        var stored = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "SELECT value FROM hub_secrets WHERE name = 'embed_token_key'", cancellationToken: cancellationToken));
        return _secret = Convert.FromBase64String(stored!);
    }
}
