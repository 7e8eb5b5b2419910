using Dapper;
using Hub.Api.Auth;
using Hub.Api.Auth.Jwt;
using Hub.Api.Infrastructure;
using Hub.Api.SigningKeys;
using Hub.Store;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Hub.Api.Sessions;

public sealed record TokenIdentity(string TenantId, string AgentId, string Role);

/// <summary>
/// Validates a token presented for a session and burns its <c>jti</c> in the store, so a token works
/// once across every Api node. Two signers, one path: the hub's own embed tokens (<c>kid</c> = <c>hub-</c> and
/// the id of one of its embed-token keys, <c>iss: hub</c>, <c>aud</c> = tenant), and SSO tokens a CRM backend mints with one of its tenant's
/// embed signing keys (<c>kid</c> = key id, <c>iss</c> = <c>aud</c> = that tenant, at most 120 s
/// between <c>iat</c> and <c>exp</c>). Errors: <c>invalid_token</c>, <c>token_expired</c>, <c>token_replayed</c>.
/// </summary>
public sealed class EmbedTokenValidator(HubTokenKeyLookup hubKeys, EmbedSigningKeys signingKeys, HubDatabase database, TimeProvider clock)
{
    /// <summary>Clocks of CRM backends drift; a few seconds of tolerance, no more.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(5);

    /// <summary>The longest a CRM-minted token may live (<c>exp - iat</c>): it is made for one page load.</summary>
    public static readonly TimeSpan MaxSsoTokenLifetime = TimeSpan.FromSeconds(120);

    public async Task<TokenIdentity> ValidateAndConsumeAsync(string token, CancellationToken cancellationToken)
    {
        if (!HubJwt.TryReadKeyId(token, out var keyId))
        {
            throw Invalid("The token is not a well-formed JWT.");
        }

        // The kid only picks the key; nothing in the token is trusted before its signature is checked with it.
        if (await ResolveSignerAsync(keyId, cancellationToken) is not { } signer)
        {
            throw Invalid("No signing key for this kid.");
        }

        var check = await HubJwt.ValidateAsync(token, signer.HmacKey, keyId!, signer.TenantId ?? HubSigningKey.Issuer,
            audience => signer.TenantId is null ? Ids.IsTenantId(audience) : audience == signer.TenantId, clock, ClockSkew);
        if (check.Refusal == JwtRefusal.Expired)
        {
            throw HubProblemException.Unauthorized("token_expired", "The token has expired; ask the CRM backend for a new one.");
        }

        if (check.Token is not { } claims)
        {
            throw Invalid($"The token was refused: {check.Detail}");
        }

        // The hub signs for every tenant, so its tokens' single audience says which; a tenant's key signs for its own only.
        var tenantId = signer.TenantId ?? claims.Audiences.Single();
        if (signer.TenantId is not null)
        {
            CheckSsoLifetime(claims);
        }

        if (!Ids.IsAgentId(claims.Subject))
        {
            throw Invalid("sub must be an agent id: 1 to 128 of A-Z a-z 0-9 . _ @ + -.");
        }

        if (string.IsNullOrEmpty(claims.Id) || claims.Id.Length > 128)
        {
            throw Invalid("jti (at most 128 characters) is required.");
        }

        var role = claims.TryGetPayloadValue<string>("role", out var claimed) ? claimed : Roles.Agent;
        if (role is not (Roles.Agent or Roles.Analyst))
        {
            throw Invalid("role must be 'agent' or 'analyst'.");
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        var tenantExists = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM tenants WHERE id = @id", new { id = tenantId }, cancellationToken: cancellationToken));
        if (tenantExists == 0)
        {
            throw Invalid("The token's tenant does not exist.");
        }

        var burned = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO used_tokens (tenant_id, jti, expires_at) VALUES (@tenantId, @jti, @expiresAt)
            ON CONFLICT (tenant_id, jti) DO NOTHING
            """,
            new
            {
                tenantId, jti = claims.Id,
                expiresAt = new DateTimeOffset(DateTime.SpecifyKind(claims.ValidTo, DateTimeKind.Utc)).Add(ClockSkew).ToUnixTimeMilliseconds(),
            }, cancellationToken: cancellationToken));
        if (burned == 0)
        {
            throw HubProblemException.Unauthorized("token_replayed", "This token was already used; tokens are single-use.");
        }

        // Also closes the race with a DELETE of the key since it was read: deletion is immediate.
        if (signer.SigningKeyId is { } signingKeyId
            && !await EmbedSigningKeys.MarkUsedAsync(connection, signingKeyId, clock.NowMs(), cancellationToken))
        {
            throw Invalid("The signing key was deleted.");
        }

        return new TokenIdentity(tenantId, claims.Subject, role);
    }

    /// <summary>The key the kid names and what it may sign for; null (so the token fails as forged) for any other kid.</summary>
    private async Task<Signer?> ResolveSignerAsync(string? keyId, CancellationToken cancellationToken)
    {
        // Tokens of the hub's old single key (kid "hub") match neither and fail as forged, as they must: it was kept in plain text.
        if (HubSigningKey.TryParseKeyId(keyId, out _))
        {
            return await hubKeys.FindAsync(keyId, cancellationToken) is { } hubKey ? new Signer(hubKey, TenantId: null, SigningKeyId: null) : null;
        }

        return keyId is not null && await signingKeys.FindAsync(keyId, cancellationToken) is { } key
            ? new Signer(key.HmacKey, key.TenantId, key.Id)
            : null;
    }

    /// <summary>A CRM-minted token is made for one page load: it says when it was issued, and lives 120 s at most.</summary>
    private static void CheckSsoLifetime(JsonWebToken claims)
    {
        if (!claims.TryGetClaim("iat", out _))
        {
            throw Invalid("iat and exp are both required.");
        }

        var lifetime = claims.ValidTo - claims.IssuedAt;
        if (lifetime <= TimeSpan.Zero || lifetime > MaxSsoTokenLifetime)
        {
            throw Invalid($"exp must be after iat and at most {MaxSsoTokenLifetime.TotalSeconds:0} s after it; this token has {lifetime.TotalSeconds:0} s.");
        }
    }

    private static HubProblemException Invalid(string detail) => HubProblemException.Unauthorized("invalid_token", detail);

    /// <param name="TenantId">The tenant a signing key belongs to; null for the hub's own key, which signs for any.</param>
    /// <param name="SigningKeyId">The embed signing key's id; null for the hub's own key.</param>
    private sealed record Signer(byte[] HmacKey, string? TenantId, string? SigningKeyId);
}
